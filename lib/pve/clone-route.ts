import { decodePercentPath } from './percent-decode';

/** A request that PVE itself would hand to the LXC (or QEMU) clone handler. */
export interface CloneRoute {
  /** The response format from the URL: `json`, `extjs`, `htmljs`, ... */
  format: string;
  /** The node segment as sent (may be `localhost`). */
  node: string;
  /** The source guest segment as sent; PVE validates it later, so may be junk. */
  vmid: string;
  guestType: 'lxc' | 'qemu';
  /** The raw query string without `?`, empty when absent. */
  query: string;
}

// pve-http-server splits `/api2/<format>/<rel path>` with this shape after percent-decoding
// the whole path (AnyEvent.pm, split_abs_uri). Perl's `.` stops at a newline and `$` may match
// before one trailing newline; `[^\n]*` and the trailing-newline strip below mirror that.
const API_PATH = /^\/api2\/+([a-z][a-z0-9]+)(\/[^\n]*)?$/;

// RESTHandler::find_handler matches template segments such as {node} against any segment
// without white space; fixed segments compare exactly, case-sensitively.
const TEMPLATE_SEGMENT = /^\S+$/;

/**
 * Decide whether a request reaches PVE's clone handler for one of `guestTypes` (LXC only by
 * default), routing the way PVE does:
 * percent-decode first, accept any format, collapse runs of `/`, ignore a trailing `/`.
 *
 * @example
 * parseCloneRoute('POST', '/api2/extjs//nodes/pve1/lxc/9000/%63lone/?newid=201')
 * // => { format: 'extjs', node: 'pve1', vmid: '9000', guestType: 'lxc', query: 'newid=201' }
 */
export function parseCloneRoute(
  method: string,
  target: string,
  guestTypes: readonly ('lxc' | 'qemu')[] = ['lxc'],
): CloneRoute | undefined {
  if (method !== 'POST') return undefined;

  const api = splitApiPath(target);
  if (api?.segments.length !== 5) return undefined;

  const [nodes, node, guestType, vmid, clone] = api.segments;
  if (nodes !== 'nodes' || clone !== 'clone') return undefined;
  if (!guestTypes.includes(guestType as 'lxc' | 'qemu')) return undefined;
  if (!TEMPLATE_SEGMENT.test(node) || !TEMPLATE_SEGMENT.test(vmid)) return undefined;

  return {
    format: api.format,
    node,
    vmid,
    guestType: guestType as 'lxc' | 'qemu',
    query: api.query,
  };
}

/**
 * The format, API path segments and raw query of a request target, as PVE's router sees them:
 * percent-decoded, runs of `/` collapsed, empty segments dropped. Undefined for non-API paths.
 */
export function splitApiPath(
  target: string,
): { format: string; segments: string[]; query: string } | undefined {
  const { path, query } = splitTarget(target);
  let decoded = decodePercentPath(path);
  if (decoded.endsWith('\n')) decoded = decoded.slice(0, -1);

  const match = API_PATH.exec(decoded);
  if (!match) return undefined;

  const segments = (match[2] ?? '/').split('/').filter((segment) => segment !== '');
  return { format: match[1], segments, query };
}

/**
 * The target as an origin-form request line (`/path?query`), unchanged but for an absolute-form
 * prefix (`http://host`), which PVE would strip too. Backslashes, runs of slashes and escapes are
 * kept: PVE routes on them, so rewriting them could turn a request PVE refuses into a clone.
 */
export function toOriginForm(target: string): string {
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
  const rest = scheme ? target.slice(scheme[0].length) : target;
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** Split a request target into path and query; absolute-form targets keep only their path. */
export function splitTarget(target: string): { path: string; query: string } {
  let rest = target;
  const scheme = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(rest);
  if (scheme) rest = rest.slice(scheme[0].length) || '/';

  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);

  const mark = rest.indexOf('?');
  if (mark === -1) return { path: rest, query: '' };
  return { path: rest.slice(0, mark), query: rest.slice(mark + 1) };
}
