/** A decoded PVE task id (pve-common `PVE::UPID`). */
export interface Upid {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  starttime: number;
  type: string;
  id: string;
  user: string;
}

// pve-common src/PVE/UPID.pm (decode): node is a host name label, pid and starttime 8 hex
// digits, pstart 8 or 9, then type, id (may be empty) and user without `:`, white space or `/`,
// and the closing `:` is required. Anything looser could smuggle path segments into the
// status URL we build from it.
const UPID_SHAPE =
  /^UPID:([a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s/]+):([^:\s/]*):([^:\s/]+):$/;

/** Parse a UPID strictly; anything that PVE itself would not decode gives `undefined`. */
export function parseUpid(text: unknown): Upid | undefined {
  if (typeof text !== 'string') return undefined;

  const match = UPID_SHAPE.exec(text);
  if (!match) return undefined;

  return {
    upid: text,
    node: match[1],
    pid: Number.parseInt(match[2], 16),
    pstart: Number.parseInt(match[3], 16),
    starttime: Number.parseInt(match[4], 16),
    type: match[5],
    id: match[6],
    user: match[7],
  };
}

/** The task status path for a parsed UPID, always on the node that runs the task. */
export function createTaskStatusPath(upid: Upid): string {
  return `/api2/json/nodes/${upid.node}/tasks/${encodeURIComponent(upid.upid)}/status`;
}
