// The ceiling: node:http answering a constant text reply without reading the query or
// parsing the body (the body is drained so keep-alive works). Nothing a webhook framework
// does can be cheaper than this on the same Node.
import { createServer } from 'node:http'

const port = Number(process.env.BENCH_PORT ?? 3000)
const reply = Buffer.from(
  '<xml><ToUserName><![CDATA[oBench_0001_wxmpLoadUsers]]></ToUserName><FromUserName><![CDATA[gh_7f083739789a]]></FromUserName>' +
    '<CreateTime>1764000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好 wxmp 1]]></Content></xml>',
)
const headers = { 'content-type': 'application/xml; charset=utf-8', 'content-length': String(reply.length) }

createServer((req, res) => {
  req.resume()
  res.writeHead(200, headers)
  res.end(reply)
}).listen(port, '127.0.0.1')
