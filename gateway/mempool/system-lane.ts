/**
 * The lane for system transactions (core/tx.ts SYSTEM_TX_KINDS: evidence, DKG deals and complaints, beacon
 * signatures). They have no nonce and no fee, so they cannot live in the per-sender nonce queues nor be
 * ranked by fee: they are few, consensus needs them promptly, and each is unique by content. The lane is
 * small and bounded (in all and per sender, since sending one costs nothing), selected ahead of ordinary
 * transactions, and a proposer drops any that fails execution (mempool.drop).
 */
import type { PendingTx } from './interface.js';

interface LaneEntry {
  readonly pending: PendingTx;
  readonly senderKey: string;
  readonly expiry: number;
}

export class SystemLane {
  private readonly entries = new Map<string, LaneEntry>();
  private readonly perSender = new Map<string, number>();
  private totalBytes = 0;

  constructor(
    readonly maxTxs: number,
    readonly maxPerSender: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get(key: string): PendingTx | undefined {
    return this.entries.get(key)?.pending;
  }

  /** Why a new entry from this sender would not fit, or undefined if it does. */
  refusal(senderKey: string): 'full' | 'sender' | undefined {
    if (this.entries.size >= this.maxTxs) return 'full';
    if ((this.perSender.get(senderKey) ?? 0) >= this.maxPerSender) return 'sender';
    return undefined;
  }

  add(key: string, senderKey: string, pending: PendingTx, expiry: number): void {
    this.entries.set(key, { pending, senderKey, expiry });
    this.perSender.set(senderKey, (this.perSender.get(senderKey) ?? 0) + 1);
    this.totalBytes += pending.bytes.length;
  }

  remove(key: string): boolean {
    const e = this.entries.get(key);
    if (!e) return false;
    this.entries.delete(key);
    const n = (this.perSender.get(e.senderKey) ?? 1) - 1;
    if (n > 0) this.perSender.set(e.senderKey, n);
    else this.perSender.delete(e.senderKey);
    this.totalBytes -= e.pending.bytes.length;
    return true;
  }

  /** Oldest first, within the limits; expired entries are skipped (and removed by expire()). */
  select(maxTxs: number, maxBytes: number, now: number): PendingTx[] {
    const out: PendingTx[] = [];
    let bytes = 0;
    for (const e of this.entries.values()) {
      if (out.length >= maxTxs) break;
      if (e.expiry <= now || bytes + e.pending.bytes.length > maxBytes) continue;
      out.push(e.pending);
      bytes += e.pending.bytes.length;
    }
    return out;
  }

  expire(now: number): void {
    for (const [k, e] of this.entries) if (e.expiry <= now) this.remove(k);
  }
}
