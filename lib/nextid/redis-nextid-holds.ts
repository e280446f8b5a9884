import { ProxyError } from '../errors';
import type { RedisLink } from '../redis/redis-link';
import { type NextidHoldStore, NextidHolds } from './nextid-holds';

const holdKey = (vmid: number) => `pve-clone-proxy:nextid:${vmid}`;

/**
 * Nextid holds shared by every proxy on one Redis: a hold is a key that expires with the hold
 * time, taken with `SET NX`, so two proxies never hand out the same id. When Redis is out of
 * reach, `local` keeps holds in this process meanwhile; `closed` fails the nextid call.
 */
export function createRedisNextidHolds(link: RedisLink, holdMs: number): NextidHoldStore {
  const local = new NextidHolds(holdMs);

  const fallBack = (error: unknown): NextidHoldStore => {
    if (link.failure === 'local') return local;
    throw new ProxyError(
      'CLONE_PROXY_LOCK_UNAVAILABLE',
      `shared nextid holds unavailable: Redis unreachable (${(error as Error)?.message})`,
      { cause: error },
    );
  };

  return {
    async claim(vmid) {
      // A hold of 0 ms ends as it starts (as in NextidHolds); Redis refuses PX 0.
      if (holdMs === 0) return true;
      if (await local.isHeld(vmid)) return false;
      try {
        const taken = await link.run((client) =>
          client.set(holdKey(vmid), '1', 'PX', holdMs, 'NX'),
        );
        return taken === 'OK';
      } catch (error) {
        return fallBack(error).claim(vmid);
      }
    },
    async release(vmid) {
      await local.release(vmid);
      try {
        await link.run((client) => client.del(holdKey(vmid)));
      } catch (error) {
        await fallBack(error).release(vmid);
      }
    },
    async isHeld(vmid) {
      if (await local.isHeld(vmid)) return true;
      try {
        return (await link.run((client) => client.exists(holdKey(vmid)))) === 1;
      } catch (error) {
        return fallBack(error).isHeld(vmid);
      }
    },
  };
}
