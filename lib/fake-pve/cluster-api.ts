import { paramError } from './errors';
import type { ApiHandler } from './router';
import { verifyParams } from './schema';
import type { FakeState } from './state';

/** The PVE release the double answers as. */
export const FAKE_VERSION = { version: '9.1.1', release: '9.1', repoid: '42ab4d6f' };

export function createClusterHandlers(
  state: FakeState,
): Record<'version' | 'nextid' | 'status', ApiHandler> {
  return {
    /** `GET /version`: needs a login, like every call but the ticket ones. */
    version(call) {
      verifyParams(call.params, {});
      return { ...FAKE_VERSION };
    },

    /**
     * `GET /cluster/status` (pve-manager PVE/API2/Cluster.pm): the cluster entry (when there is
     * more than one node) and one entry per node; `local: 1` marks the node that answered.
     */
    status(call) {
      verifyParams(call.params, {});
      const { nodes, localNode } = state.cluster;
      const entries: Record<string, unknown>[] = nodes.map((name, index) => ({
        type: 'node',
        id: `node/${name}`,
        name,
        nodeid: index + 1,
        ip: `127.0.0.${index + 1}`,
        local: name === localNode ? 1 : 0,
        online: 1,
        level: '',
      }));
      if (nodes.length > 1) {
        entries.unshift({
          type: 'cluster',
          id: 'cluster',
          name: 'fake',
          nodes: nodes.length,
          quorate: 1,
          version: nodes.length,
        });
      }
      return entries;
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
