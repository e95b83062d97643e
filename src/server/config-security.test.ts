import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../errors.js'
import { loadConfig } from './config.js'

const base = { WECHAT_TOKEN: 'configToken', DATABASE_URL: 'memory:' }
const load = (extra: Record<string, string>) => loadConfig({ ...base, ...extra }, { dotenv: false })

test('the protections\' variables: defaults, and mistakes named at startup', () => {
  const defaults = load({})
  assert.deepEqual([defaults.maxBufferedBytes, defaults.trustedProxies, defaults.clientIpHeader, defaults.opsPort, defaults.opsHost], [16 * 1024 * 1024, [], 'x-forwarded-for', undefined, '127.0.0.1'])
  const set = load({ WXMP_TRUSTED_PROXIES: ' 127.0.0.1, 10.0.0.0/8 ,::1', WXMP_CLIENT_IP_HEADER: 'x-real-ip', WXMP_OPS_PORT: '9464', WXMP_OPS_HOST: '0.0.0.0', WXMP_MAX_BUFFERED_BYTES: '2097152' })
  assert.deepEqual([set.trustedProxies, set.clientIpHeader, set.opsPort, set.opsHost, set.maxBufferedBytes], [['127.0.0.1', '10.0.0.0/8', '::1'], 'x-real-ip', 9464, '0.0.0.0', 2097152])
  assert.equal(load({ WXMP_MAX_BODY_BYTES: String(32 * 1024 * 1024) }).maxBufferedBytes, 32 * 1024 * 1024, 'the default budget holds one largest body')
  for (const [extra, pattern] of [
    [{ WXMP_TRUSTED_PROXIES: '10.0.0.0/40' }, /WXMP_TRUSTED_PROXIES: trusted proxy "10\.0\.0\.0\/40"/],
    [{ WXMP_TRUSTED_PROXIES: 'nginx.local' }, /WXMP_TRUSTED_PROXIES must be IP addresses or CIDR ranges/],
    [{ WXMP_CLIENT_IP_HEADER: 'forwarded' }, /WXMP_CLIENT_IP_HEADER/],
    [{ WXMP_MAX_BUFFERED_BYTES: '2048', WXMP_MAX_BODY_BYTES: '4096' }, /WXMP_MAX_BUFFERED_BYTES \(2048\) is below WXMP_MAX_BODY_BYTES/],
    [{ WXMP_OPS_HOST: '0.0.0.0' }, /WXMP_OPS_HOST is set but WXMP_OPS_PORT is not/],
    [{ WXMP_OPS_PORT: '70000' }, /WXMP_OPS_PORT/],
  ] as const) {
    assert.throws(() => load(extra), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && pattern.test(err.message), JSON.stringify(extra))
  }
})
