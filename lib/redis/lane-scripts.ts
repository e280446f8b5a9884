import type Redis from 'ioredis';

/**
 * The Redis keys of one lane. The braces are a hash tag: on a Redis Cluster all keys of a lane
 * land in one slot, as the scripts need.
 */
export interface LaneKeys {
  /** The owner's random token, expiring after one lease unless renewed. */
  owner: string;
  /** The UPID of the task the owner started, kept past the owner's death for the next one. */
  task: string;
  /** INCR counter that numbers the waiters' tickets. */
  tickets: string;
  /** Sorted set: waiter token by ticket, the lowest ticket first. */
  queue: string;
  /** Sorted set: waiter token by the Redis time (ms) its heartbeat runs out. */
  alive: string;
}

export function createLaneKeys(lane: string): LaneKeys {
  const base = `pve-clone-proxy:lane:{${lane}}`;
  return {
    owner: `${base}:owner`,
    task: `${base}:task`,
    tickets: `${base}:tickets`,
    queue: `${base}:queue`,
    alive: `${base}:alive`,
  };
}

// Draw a ticket on the first call, beat the heart on every call, drop waiters ahead whose
// heartbeat ran out, and take the lock when this waiter is first and the lock is free.
// Returns {1, recorded upid or ''} when taken, {0, place in line} otherwise. Time is Redis's
// own (TIME), so the proxies' clocks do not matter.
const TAKE_TURN = `
local now = redis.call('TIME')
local ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  redis.call('ZADD', KEYS[4], redis.call('INCR', KEYS[3]), ARGV[1])
end
redis.call('ZADD', KEYS[5], ms + tonumber(ARGV[3]), ARGV[1])
while true do
  local head = redis.call('ZRANGE', KEYS[4], 0, 0)[1]
  if head == ARGV[1] then break end
  local deadline = tonumber(redis.call('ZSCORE', KEYS[5], head))
  if deadline and deadline >= ms then
    return {0, redis.call('ZRANK', KEYS[4], ARGV[1])}
  end
  redis.call('ZREM', KEYS[4], head)
  redis.call('ZREM', KEYS[5], head)
end
if redis.call('EXISTS', KEYS[1]) == 1 then return {0, 0} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return {1, redis.call('GET', KEYS[2]) or ''}
`;

const LEAVE = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`;

// Every script below acts only for the owner whose token holds the lock.
const RENEW = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1
`;

const RECORD_TASK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
`;

const FORGET_TASK = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
return 1
`;

const RELEASE = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1
`;

type Arg = string | number;

/** The lane scripts, loaded once per connection and run by SHA (ioredis falls back to EVAL). */
export interface LaneScripts {
  takeTurn(keys: LaneKeys, token: string, leaseMs: number, heartbeatMs: number): Promise<Turn>;
  leave(keys: LaneKeys, token: string): Promise<void>;
  renew(keys: LaneKeys, token: string, leaseMs: number, taskTtlMs: number): Promise<boolean>;
  recordTask(keys: LaneKeys, token: string, upid: string, taskTtlMs: number): Promise<boolean>;
  forgetTask(keys: LaneKeys, token: string): Promise<boolean>;
  release(keys: LaneKeys, token: string): Promise<boolean>;
}

export type Turn = { taken: true; upid: string | undefined } | { taken: false; place: number };

type Scripted = Record<string, (...args: Arg[]) => Promise<unknown>>;

export function defineLaneScripts(client: Redis): LaneScripts {
  const scripts = { TAKE_TURN, LEAVE, RENEW, RECORD_TASK, FORGET_TASK, RELEASE };
  for (const [name, lua] of Object.entries(scripts)) {
    client.defineCommand(`cloneProxy${name}`, { numberOfKeys: name === 'TAKE_TURN' ? 5 : 2, lua });
  }
  const call = (name: keyof typeof scripts, ...args: Arg[]) =>
    (client as unknown as Scripted)[`cloneProxy${name}`](...args);

  return {
    async takeTurn(keys, token, leaseMs, heartbeatMs) {
      const { owner, task, tickets, queue, alive } = keys;
      const [taken, detail] = (await call(
        'TAKE_TURN',
        owner,
        task,
        tickets,
        queue,
        alive,
        token,
        leaseMs,
        heartbeatMs,
      )) as [number, string | number];
      if (taken === 1) return { taken: true, upid: detail ? String(detail) : undefined };
      return { taken: false, place: Number(detail) };
    },
    async leave(keys, token) {
      await call('LEAVE', keys.queue, keys.alive, token);
    },
    renew: async (keys, token, leaseMs, taskTtlMs) =>
      (await call('RENEW', keys.owner, keys.task, token, leaseMs, taskTtlMs)) === 1,
    recordTask: async (keys, token, upid, taskTtlMs) =>
      (await call('RECORD_TASK', keys.owner, keys.task, token, upid, taskTtlMs)) === 1,
    forgetTask: async (keys, token) =>
      (await call('FORGET_TASK', keys.owner, keys.task, token)) === 1,
    release: async (keys, token) => (await call('RELEASE', keys.owner, keys.task, token)) === 1,
  };
}
