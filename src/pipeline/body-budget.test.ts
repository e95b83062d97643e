import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isWxmpError } from '../errors.js'
import { BodyBudget } from './body-budget.js'

test('reservations add up to the limit; past it WX_ERR_OVERLOADED and nothing is reserved; releases give room back', () => {
  const budget = new BodyBudget(100)
  budget.reserve(60)
  assert.ok(budget.fits(40))
  assert.ok(!budget.fits(41))
  assert.throws(() => budget.reserve(41), (err) => isWxmpError(err, 'WX_ERR_OVERLOADED') && err.status === 503)
  assert.equal(budget.inUse, 60)
  budget.reserve(40)
  budget.release(100)
  assert.equal(budget.inUse, 0)
  budget.release(5) // never below zero
  assert.equal(budget.inUse, 0)
})

test('a budget that is not a positive number is a configuration error', () => {
  for (const limit of [0, -1, Number.NaN]) assert.throws(() => new BodyBudget(limit), (err) => isWxmpError(err, 'WX_ERR_CONFIG'))
})
