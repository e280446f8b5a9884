import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) read here. */
interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** A stretch of the monotonic clock (`process.hrtime`), in microseconds as V8 stamps samples. */
export interface ProfileWindow {
  fromUs: number;
  toUs: number;
}

export interface HotFunction {
  name: string;
  /** `lib/passthrough.ts`, `express/lib/router/index.js:42`, `node:_http_server:380`. */
  where: string;
  selfMs: number;
  /** Share of the time the process was not idle. */
  share: number;
}

export interface ProfileSummary {
  busyMs: number;
  top: HotFunction[];
  /** Self time by where the code lives: our lib, each package, Node itself, GC. */
  areas: { area: string; share: number }[];
}

/**
 * Self time per function, summed over every call site of it, counting only samples inside
 * `window` (start-up and warm-up left out). Lines of our own TypeScript are left out: under tsx
 * the profile holds the lines of the transpiled code, not of the source.
 */
export function summarizeProfile(
  file: string,
  root: string,
  window: ProfileWindow,
  count = 10,
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfMs = new Map<string, HotFunction>();
  const areaMs = new Map<string, number>();
  let busyMs = 0;
  let at = profile.startTime;

  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < window.fromUs || at > window.toUs) return;
    // A sample's time is the gap to the next one; the last sample gets the previous gap.
    const ms = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000;
    const frame = frames.get(id);
    if (!frame || frame.functionName === '(idle)') return;
    busyMs += ms;

    const where = describeLocation(frame.url, frame.lineNumber, root);
    const name = frame.functionName || '(anonymous)';
    const key = `${name} ${where}`;
    const hot = selfMs.get(key) ?? { name, where, selfMs: 0, share: 0 };
    hot.selfMs += ms;
    selfMs.set(key, hot);
    const area = describeArea(frame.url, name, root);
    areaMs.set(area, (areaMs.get(area) ?? 0) + ms);
  });

  const top = [...selfMs.values()].sort((a, b) => b.selfMs - a.selfMs).slice(0, count);
  for (const hot of top) hot.share = hot.selfMs / busyMs;
  const areas = [...areaMs.entries()]
    .map(([area, ms]) => ({ area, share: ms / busyMs }))
    .sort((a, b) => b.share - a.share);
  return { busyMs, top, areas };
}

function describeLocation(url: string, line: number, root: string): string {
  if (!url) return '';
  if (!url.startsWith('file:')) return `${url}:${line + 1}`;
  const path = relative(root, fileURLToPath(url));
  if (path.endsWith('.ts')) return path;
  return `${path.replace(/^node_modules\//, '')}:${line + 1}`;
}

function describeArea(url: string, name: string, root: string): string {
  if (!url) return name.startsWith('(') ? name : 'V8 / native';
  if (!url.startsWith('file:')) return 'Node.js core';
  const path = relative(root, fileURLToPath(url));
  const inPackage = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  if (inPackage) return inPackage[1];
  return path.split('/')[0] === 'lib' ? 'pve-clone-proxy lib/' : path;
}
