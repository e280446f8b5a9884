/**
 * Ids this proxy handed out from `/cluster/nextid`, each held for a while so that no other
 * caller gets it before the clone that uses it has created the guest. PVE itself reserves
 * nothing (pve-manager PVE/API2/Cluster.pm, nextid), so two callers racing otherwise get the same
 * id (field report R04).
 */
export interface NextidHoldStore {
  /** Hold `vmid` unless it is held already; true when this call took it (atomic in a shared store). */
  claim(vmid: number): Promise<boolean>;
  release(vmid: number): Promise<void>;
  isHeld(vmid: number): Promise<boolean>;
}

/** Holds kept in this process, for one proxy. */
export class NextidHolds implements NextidHoldStore {
  private readonly expiries = new Map<number, number>();
  private readonly holdMs: number;

  constructor(holdMs: number) {
    this.holdMs = holdMs;
  }

  async claim(vmid: number): Promise<boolean> {
    if (await this.isHeld(vmid)) return false;
    this.expiries.set(vmid, Date.now() + this.holdMs);
    return true;
  }

  /** End a hold early, e.g. when the clone to that id has finished (the guest now exists). */
  async release(vmid: number): Promise<void> {
    this.expiries.delete(vmid);
  }

  async isHeld(vmid: number): Promise<boolean> {
    const expiry = this.expiries.get(vmid);
    if (expiry === undefined) return false;
    if (expiry > Date.now()) return true;

    this.expiries.delete(vmid);
    return false;
  }
}
