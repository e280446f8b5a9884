import { paramError } from './errors';
import type { ApiHandler } from './router';
import { verifyParams } from './schema';
import type { FakeState } from './state';

/** The PVE release the double answers as. */
export const FAKE_VERSION = { version: '9.1.1', release: '9.1', repoid: '42ab4d6f' };

export function createClusterHandlers(state: FakeState): Record<'version' | 'nextid', ApiHandler> {
  return {
    /** `GET /version`: needs a login, like every call but the ticket ones. */
    version(call) {
      verifyParams(call.params, {});
      return { ...FAKE_VERSION };
    },

    /**
     * `GET /cluster/nextid` (pve-manager PVE/API2/Cluster.pm): the lowest free id, reserving
     * nothing. Perl stringifies the id while looking it up, so JSON carries it as a string.
     */
    nextid(call) {
      const { vmid } = verifyParams(call.params, {
        vmid: { type: 'integer', format: 'pve-vmid', optional: true },
      });
      if (vmid === undefined) return String(state.cluster.nextid());
      if (state.cluster.guest(Number(vmid))) {
        throw paramError({ vmid: `VM ${vmid} already exists` });
      }
      return vmid;
    },
  };
}
