import type { FakeRawResponse } from './types';

/** A handler result with the `total` attribute PVE adds to list answers. */
export class DataReply {
  constructor(
    readonly data: unknown,
    readonly total?: number,
  ) {}
}

/** A fault: these exact bytes instead of what the handler would have said. */
export class RawReply {
  constructor(readonly response: FakeRawResponse) {}
}

/** A fault: the work is done, but the connection dies before the answer. */
export class DroppedReply {}
