import { BlockList, isIP } from 'node:net'
import { WxmpError } from '../errors.js'

/** Which header a trusted proxy writes the client address into. */
export type ClientIpHeader = 'x-forwarded-for' | 'x-real-ip'

export interface TrustedProxiesOptions {
  /** Addresses or CIDR ranges of your own proxies, e.g. `['127.0.0.1', '10.0.0.0/8', '::1']`. */
  proxies: readonly string[]
  /** Default `x-forwarded-for` (walked from the right, skipping trusted hops). */
  header?: ClientIpHeader
}

/**
 * The client address of a request behind your own reverse proxies. The forwarding headers are
 * believed only when the connection comes from a listed proxy: anyone else could write them.
 * X-Forwarded-For is read from the right, skipping the listed proxies, so what a client wrote
 * on its own at the left never counts; the first address that is not a proxy is the client.
 * X-Real-IP (when chosen instead) is taken whole: use it only when the proxy overwrites it.
 *
 * @example
 * const proxies = new TrustedProxies({ proxies: ['127.0.0.1'] })
 * proxies.clientAddress('127.0.0.1', { 'x-forwarded-for': '203.0.113.7' }) // '203.0.113.7'
 */
export class TrustedProxies {
  readonly header: ClientIpHeader
  private readonly list = new BlockList()

  constructor(options: TrustedProxiesOptions) {
    this.header = options.header ?? 'x-forwarded-for'
    for (const entry of options.proxies) addEntry(this.list, entry.trim())
  }

  /** True when `address` is one of the listed proxies. */
  trusts(address: string | undefined): boolean {
    if (address === undefined) return false
    const family = isIP(address)
    return family !== 0 && this.list.check(address, family === 6 ? 'ipv6' : 'ipv4')
  }

  /** The client's address: the socket's own, unless that is a listed proxy that says otherwise. */
  clientAddress(socketAddress: string | undefined, headers: Record<string, string | string[] | undefined> | undefined): string | undefined {
    if (!this.trusts(socketAddress) || headers === undefined) return socketAddress
    const raw = headers[this.header]
    if (raw === undefined) return socketAddress
    const value = Array.isArray(raw) ? raw.join(',') : raw
    if (this.header === 'x-real-ip') {
      const address = value.trim()
      return isIP(address) !== 0 ? address : socketAddress
    }
    const hops = value.split(',')
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!.trim()
      if (isIP(hop) === 0) return socketAddress // not written by a proxy of ours: believe nothing further left
      if (!this.trusts(hop)) return hop
    }
    return socketAddress
  }
}

function addEntry(list: BlockList, entry: string): void {
  const [address = '', prefixText, extra] = entry.split('/')
  const family = isIP(address)
  const prefix = prefixText === undefined ? undefined : Number(prefixText)
  const maxPrefix = family === 6 ? 128 : 32
  if (family === 0 || extra !== undefined || (prefix !== undefined && (!/^\d{1,3}$/.test(prefixText!) || prefix > maxPrefix))) {
    throw new WxmpError('WX_ERR_CONFIG', `trusted proxy ${JSON.stringify(entry.slice(0, 60))} is not an IP address or CIDR range (e.g. 127.0.0.1, 10.0.0.0/8, ::1)`, { details: { entry: entry.slice(0, 60) } })
  }
  const type = family === 6 ? 'ipv6' : 'ipv4'
  if (prefix === undefined) list.addAddress(address, type)
  else list.addSubnet(address, prefix, type)
}
