import type { CloneSource } from './task-search';

const PREFIX = 'dispatch:';

/**
 * What a lane's lease records between sending a clone and learning its UPID. A proxy that dies
 * in that moment leaves this behind, so that the next owner can look for the task it may have
 * started instead of assuming there is none.
 */
export function createDispatchMark(source: CloneSource, dispatchedAt: number): string {
  const parts = [source.guestType, source.node, source.vmid, String(dispatchedAt)];
  return PREFIX + parts.map(encodeURIComponent).join(':');
}

export function parseDispatchMark(
  text: string,
): { source: CloneSource; dispatchedAt: number } | undefined {
  if (!text.startsWith(PREFIX)) return undefined;

  const [guestType, node, vmid, at] = text.slice(PREFIX.length).split(':').map(decodeURIComponent);
  if ((guestType !== 'lxc' && guestType !== 'qemu') || !node || !vmid || !/^\d+$/.test(at ?? '')) {
    return undefined;
  }
  return { source: { guestType, node, vmid }, dispatchedAt: Number(at) };
}
