import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../errors.js'
import { TrustedProxies } from './client-address.js'

test('X-Forwarded-For is walked from the right: trusted hops are skipped, what a client wrote at the left never counts', () => {
  const proxies = new TrustedProxies({ proxies: ['10.0.0.0/8', '127.0.0.1'] })
  assert.equal(proxies.clientAddress('127.0.0.1', { 'x-forwarded-for': '1.1.1.1, 203.0.113.7, 10.0.0.5' }), '203.0.113.7')
  assert.equal(proxies.clientAddress('127.0.0.1', { 'x-forwarded-for': ['1.1.1.1', '203.0.113.7'] }), '203.0.113.7')
  // only proxies in the chain: the furthest one is as close to the client as we know
  assert.equal(proxies.clientAddress('127.0.0.1', { 'x-forwarded-for': '10.0.0.9' }), '127.0.0.1')
  // garbage where a proxy of ours would have written an address: believe nothing
  assert.equal(proxies.clientAddress('127.0.0.1', { 'x-forwarded-for': '1.1.1.1, not-an-ip' }), '127.0.0.1')
  assert.equal(proxies.clientAddress('127.0.0.1', {}), '127.0.0.1')
})

test('the headers of a connection that is not a listed proxy are ignored', () => {
  const proxies = new TrustedProxies({ proxies: ['127.0.0.1'] })
  assert.equal(proxies.clientAddress('198.51.100.4', { 'x-forwarded-for': '1.2.3.4', 'x-real-ip': '1.2.3.4' }), '198.51.100.4')
  assert.equal(proxies.clientAddress(undefined, { 'x-forwarded-for': '1.2.3.4' }), undefined)
})

test('X-Real-IP, when chosen, is taken whole from a trusted proxy; X-Forwarded-For is then ignored', () => {
  const proxies = new TrustedProxies({ proxies: ['::1', '127.0.0.1'], header: 'x-real-ip' })
  assert.equal(proxies.clientAddress('::1', { 'x-real-ip': '2001:db8::7', 'x-forwarded-for': '1.2.3.4' }), '2001:db8::7')
  assert.equal(proxies.clientAddress('127.0.0.1', { 'x-real-ip': 'junk' }), '127.0.0.1')
})

test('IPv4-mapped addresses match their IPv4 entries; a bad entry fails at construction, naming it', () => {
  assert.ok(new TrustedProxies({ proxies: ['127.0.0.0/8'] }).trusts('::ffff:127.0.0.1'))
  for (const bad of ['localhost', '10.0.0.0/33', '10.0.0.0/8/1', '::1/129', '1.2.3.4/x']) {
    assert.throws(() => new TrustedProxies({ proxies: [bad] }), (err) => isWxmpError(err, 'WX_ERR_CONFIG') && err.message.includes(JSON.stringify(bad)))
  }
})
