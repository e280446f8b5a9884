/**
 * Ids this proxy handed out from `/cluster/nextid`, each held for a while so that no other
 * caller gets it before the clone that uses it has created the guest. PVE itself reserves
 * nothing (pve-manager PVE/API2/Cluster.pm, nextid), so two callers racing otherwise get the same
 * id (field report R04).
 */
export class NextidHolds {
  private readonly expiries = new Map<number, number>();
  private readonly holdMs: number;

  constructor(holdMs: number) {
    this.holdMs = holdMs;
  }

  hold(vmid: number, now = Date.now()): void {
    this.expiries.set(vmid, now + this.holdMs);
  }

  /** End a hold early, e.g. when the clone to that id has finished (the guest now exists). */
  release(vmid: number): void {
    this.expiries.delete(vmid);
  }

  isHeld(vmid: number, now = Date.now()): boolean {
    const expiry = this.expiries.get(vmid);
    if (expiry === undefined) return false;
    if (expiry > now) return true;

    this.expiries.delete(vmid);
    return false;
  }
}
