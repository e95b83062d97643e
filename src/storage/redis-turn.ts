/**
 * One event-loop turn's store commands as one Redis script call (EVALSHA), for RedisStore.
 *
 * Why a script and not a pipeline of plain commands: on the request thread, each ioredis
 * command is an object graph of its own (the command, its flattened arguments, its promise,
 * its timeout timer, its encoded text) that lives for the round trip, and under load many of
 * them outlive a young-generation collection and get copied and promoted. A message costs three
 * commands (replay record, dedup claim, stored answer), and those objects were the largest part
 * of what the request thread collected and copied. As one call per turn, a turn's fifty commands
 * cost one command's objects plus two flat arrays. Measured on the fleet's setup: about a
 * quarter less CPU per message on the request thread (bench/README.md).
 *
 * What it keeps: each operation runs as the plain command would (the same SET, SET NX, GET, DEL
 * with the same arguments), in the order the turn issued them, and each gets its own answer or
 * its own error (`redis.pcall`): a failing operation fails alone, as in a pipeline. A script runs
 * atomically, which is more than a pipeline promised, not less. The keys are declared as KEYS,
 * as Redis wants of scripts (a Redis Cluster would also need them in one slot; wxmp's Redis
 * store connects to one Redis, not a Cluster).
 */

/** An operation of the turn, in the script's vocabulary. */
export type TurnOperation =
  | { op: 'get'; key: string }
  | { op: 'set'; key: string; json: string; ttlMs: number | undefined }
  | { op: 'add'; key: string; json: string; ttlMs: number | undefined }
  | { op: 'delete'; key: string }
  | { op: 'deleteIf'; key: string; json: string }

/**
 * Per key (KEYS[i]) an opcode in ARGV and its arguments: g (GET), s / sp (SET, with PX), n / np
 * (SET NX, with PX), d (DEL), di (DEL if the value is ARGV's). Every answer goes into the array
 * as the command gave it; an error stays that operation's (pcall), false is a nil reply.
 */
export const TURN_LUA = `local out = {}
local a = 1
for i = 1, #KEYS do
  local op, k, r = ARGV[a], KEYS[i], nil
  if op == 'g' then r = redis.pcall('GET', k); a = a + 1
  elseif op == 's' then r = redis.pcall('SET', k, ARGV[a + 1]); a = a + 2
  elseif op == 'sp' then r = redis.pcall('SET', k, ARGV[a + 1], 'PX', ARGV[a + 2]); a = a + 3
  elseif op == 'n' then r = redis.pcall('SET', k, ARGV[a + 1], 'NX'); a = a + 2
  elseif op == 'np' then r = redis.pcall('SET', k, ARGV[a + 1], 'PX', ARGV[a + 2], 'NX'); a = a + 3
  elseif op == 'd' then r = redis.pcall('DEL', k); a = a + 1
  elseif op == 'di' then
    r = redis.pcall('GET', k)
    if type(r) ~= 'table' then
      if r == ARGV[a + 1] then r = redis.pcall('DEL', k) else r = 0 end
    end
    a = a + 2
  else
    return redis.error_reply('wxmp turn script: unknown opcode ' .. tostring(op))
  end
  out[i] = r
end
return out`

/**
 * Most operations in one script call: a turn with more (a recovery copying an outage's records
 * back) is split, so no call holds Redis for long or carries an outsized argument list.
 */
export const MAX_TURN_OPERATIONS = 256

/** The script's arguments for these operations: the number of keys, the keys, then the opcodes and values. */
export function turnArguments(operations: readonly TurnOperation[]): Array<string | number> {
  const keys: Array<string | number> = [operations.length]
  const argv: Array<string | number> = []
  for (const operation of operations) {
    keys.push(operation.key)
    switch (operation.op) {
      case 'get':
        argv.push('g')
        break
      case 'delete':
        argv.push('d')
        break
      case 'deleteIf':
        argv.push('di', operation.json)
        break
      case 'set':
        if (operation.ttlMs === undefined) argv.push('s', operation.json)
        else argv.push('sp', operation.json, operation.ttlMs)
        break
      case 'add':
        if (operation.ttlMs === undefined) argv.push('n', operation.json)
        else argv.push('np', operation.json, operation.ttlMs)
        break
    }
  }
  for (const value of argv) keys.push(value)
  return keys
}
