/** Memory of this process as `process.memoryUsage` sees it, after a full collection if allowed. */
export interface ProcessMemory {
  rssBytes: number;
  heapUsedBytes: number;
  collected: boolean;
}

/** Run with `--expose-gc`, the heap figure is what is still reachable. */
export function readMemory(): ProcessMemory {
  const collect = (globalThis as { gc?: () => void }).gc;
  collect?.();
  const usage = process.memoryUsage();
  return { rssBytes: usage.rss, heapUsedBytes: usage.heapUsed, collected: Boolean(collect) };
}
