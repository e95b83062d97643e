// The incumbent: `co-wechat` on Koa 2 (the setup its README shows), answering every text
// message with its own content. BENCH_MODE=aes configures the Token, AppID and EncodingAESKey.
import Koa from 'koa'
import wechat from 'co-wechat'

const port = Number(process.env.BENCH_PORT ?? 3000)
const token = process.env.WECHAT_TOKEN
const config = process.env.BENCH_MODE === 'aes' ? { token, appid: process.env.WECHAT_APPID, encodingAESKey: process.env.WECHAT_AES_KEY } : token

const app = new Koa()
app.use(wechat(config).middleware(async (message) => message.Content))
app.listen(port, '127.0.0.1')
