import type { ApiHandler } from './router';
import { verifyParams } from './schema';
import type { FakeState } from './state';

/** A small, fixed capability map; the double does not model privileges beyond Sys.Audit. */
const CAP = {
  vms: {
    'VM.Allocate': 1,
    'VM.Clone': 1,
    'VM.Config.Options': 1,
    'VM.PowerMgmt': 1,
    'VM.Audit': 1,
  },
  storage: { 'Datastore.Allocate': 1, 'Datastore.AllocateSpace': 1, 'Datastore.Audit': 1 },
  nodes: { 'Sys.Audit': 1, 'Sys.Modify': 1, 'Sys.PowerMgmt': 1 },
  access: { 'User.Modify': 1, 'Permissions.Modify': 1 },
  dc: { 'Sys.Audit': 1 },
  sdn: { 'SDN.Use': 1, 'SDN.Audit': 1 },
  mapping: { 'Mapping.Use': 1 },
};

export function createAccessHandlers(state: FakeState): Record<string, ApiHandler> {
  return {
    /** `POST /access/ticket` (pve-access-control API2/AccessControl.pm, create_ticket). */
    createTicket(call) {
      const p = verifyParams(call.params, {
        username: { type: 'string', maxLength: 64 },
        password: { type: 'string' },
        realm: { type: 'string', optional: true },
        otp: { type: 'string', optional: true },
        'tfa-challenge': { type: 'string', optional: true },
        path: { type: 'string', optional: true },
        privs: { type: 'string', optional: true },
        'new-format': { type: 'boolean', optional: true },
      });
      const username =
        p.realm && !p.username.includes('@') ? `${p.username}@${p.realm}` : p.username;
      const login = state.auth.login(username, p.password);

      return {
        ...login,
        cap: CAP,
        ...(state.cluster.nodes.length > 1 ? { clustername: 'fake-cluster' } : {}),
      };
    },

    /** `GET /access/ticket`: a no-op the login form calls. */
    ticketIndex: () => null,

    /** `GET /access/domains`. */
    domains: () => [
      { realm: 'pam', type: 'pam', comment: 'Linux PAM standard authentication' },
      { realm: 'pve', type: 'pve', comment: 'Proxmox VE authentication server' },
    ],
  };
}
