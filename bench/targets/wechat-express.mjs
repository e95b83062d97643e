// The incumbent: node-webot's `wechat` as Express 4 middleware (the setup its README shows),
// answering every text message with its own content. BENCH_MODE=aes configures the Token,
// AppID and EncodingAESKey, so requests arrive in safe mode and replies go out encrypted.
import express from 'express4'
import wechat from 'wechat'

const port = Number(process.env.BENCH_PORT ?? 3000)
const token = process.env.WECHAT_TOKEN
const config = process.env.BENCH_MODE === 'aes' ? { token, appid: process.env.WECHAT_APPID, encodingAESKey: process.env.WECHAT_AES_KEY } : token

const app = express()
app.use(
  '/wechat',
  wechat(config, (req, res) => {
    res.reply(req.weixin.Content)
  }),
)
app.listen(port, '127.0.0.1')
