import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseConnectionUrl, postgresLocation, redactUrl } from './connection-url.js'

test('a user before an empty host parses, as node-postgres reads it', () => {
  const parsed = parseConnectionUrl('postgres://me:secret@/wxmp?host=/var/run/postgresql')
  assert.ok(parsed)
  assert.equal(parsed.emptyHost, true)
  assert.equal(parsed.url.username, 'me')
  assert.equal(parsed.url.pathname, '/wxmp')
  assert.equal(parsed.url.searchParams.get('host'), '/var/run/postgresql')
  assert.equal(parseConnectionUrl('postgres:///wxmp')?.emptyHost, true)
  assert.equal(parseConnectionUrl('postgres://db.example:5432/wxmp')?.emptyHost, false)
})

test('what is not a URL stays refused', () => {
  for (const bad of ['', 'nope', 'postgres://me@', '//me@/x', 'redis//host', 'postgres://me@[::1/x']) {
    assert.equal(parseConnectionUrl(bad), undefined, bad)
  }
})

test('where a PostgreSQL URL points: host and database, or the socket folder', () => {
  assert.equal(postgresLocation('postgres://me:pw@127.0.0.1:5432/wxmp'), '127.0.0.1:5432/wxmp')
  assert.equal(postgresLocation('postgres://me@/wxmp?host=/var/run/postgresql'), '/var/run/postgresql/wxmp')
  assert.equal(postgresLocation('postgres://%2Fvar%2Frun%2Fpostgresql/wxmp'), '/var/run/postgresql/wxmp')
  assert.equal(postgresLocation('postgres:///wxmp', {}), 'localhost/wxmp')
  assert.equal(postgresLocation('postgres://me@/wxmp', { PGHOST: '/run/pg' }), '/run/pg/wxmp')
  assert.equal(postgresLocation('not a url'), '<unparseable URL>')
})

test('redaction hides the password in every form and keeps the empty host empty', () => {
  assert.equal(redactUrl('postgres://me:hunter2@/wxmp?host=/run/pg'), 'postgres://me:***@/wxmp?host=/run/pg')
  assert.equal(redactUrl('redis://:hunter2@cache:6379/0'), 'redis://:***@cache:6379/0')
  assert.equal(redactUrl('postgres://me@db/wxmp'), 'postgres://me@db/wxmp')
  assert.equal(redactUrl('::'), '<unparseable URL>')
})
