/**
 * One sender's pending transactions, in nonce order, one per nonce. Gaps are allowed (transactions arrive
 * out of order over gossip); only a run of consecutive nonces from the account's nonce can go into a block.
 */
import type { Transaction } from '../../core/tx.js';
import type { PendingTx } from './interface.js';

export interface Entry {
  readonly pending: PendingTx;
  /** The tx id as a map key. */
  readonly key: string;
  readonly queue: SenderQueue;
  readonly nonce: number;
  readonly fee: bigint;
  /** What the sender's balance must cover: fee plus the amount moved out of the balance. */
  readonly cost: bigint;
  readonly size: number;
  readonly expiry: number;
  /** Fee per byte: the priority in blocks (select.ts) and, reversed, the eviction order. */
  readonly rate: number;
  /** Admission order: the tie-break (earlier first into blocks, later first out when full). */
  readonly seq: number;
}

/** fee + what leaves the balance: a transfer's or a stake's amount (unstake moves staked funds). */
export function txCost(tx: Transaction): bigint {
  const p = tx.body.payload;
  return p.kind === 'transfer' || p.kind === 'stake' ? tx.body.fee + p.amount : tx.body.fee;
}

/**
 * Fee per byte as a double. Division is correctly rounded, so equal ratios compare equal; fees above 2^53
 * lose low bits, which only blurs the order between fees that close.
 */
export function feeRate(fee: bigint, size: number): number {
  return Number(fee) / size;
}

/** Eviction order: lower fee per byte first, then later admission (earlier arrivals keep their place). */
export function evictsBefore(a: Entry, b: Entry): boolean {
  return a.rate < b.rate || (a.rate === b.rate && a.seq > b.seq);
}

/** evictsBefore of two queues' tails, from the copies of their keys (no pointer chase per comparison). */
export function tailEvictsBefore(a: SenderQueue, b: SenderQueue): boolean {
  return a.tailRate < b.tailRate || (a.tailRate === b.tailRate && a.tailSeq > b.tailSeq);
}

export class SenderQueue {
  readonly entries: Entry[] = [];
  /** Sum of entry.cost over all entries. */
  cost = 0n;
  /** The best rate among the entries: an upper bound on what the sender can offer a block. */
  maxRate = -1;
  /** The tail's rate and seq, copied here for the tail heap's comparisons. */
  tailRate = 0;
  tailSeq = 0;
  /** Index in the mempool's tail heap (eviction order), kept by the heap's onMove. */
  tailIndex = -1;
  /** Index in the mempool's heads heap (maxRate order), kept by the heap's onMove. */
  headIndex = -1;

  // Scratch of one select() call (kept here to allocate nothing per sender per block).
  selResolved = false;
  /** Its index in the heads heap when selection visited it. */
  selNode = 0;
  selPos = 0;
  selBudget = 0n;

  constructor(
    readonly key: string,
    readonly sender: Uint8Array,
    readonly address: Uint8Array,
  ) {}

  get length(): number {
    return this.entries.length;
  }

  get tail(): Entry {
    return this.entries[this.entries.length - 1]!;
  }

  /** Index of the entry with `nonce`, or -(insertion point) - 1. */
  find(nonce: number): number {
    const e = this.entries;
    let lo = 0;
    let hi = e.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const n = e[mid]!.nonce;
      if (n === nonce) return mid;
      if (n < nonce) lo = mid + 1;
      else hi = mid;
    }
    return -lo - 1;
  }

  /** Total cost of the entries with nonce >= accountNonce (those below are stale: already executed). */
  liveCost(accountNonce: number): bigint {
    let cost = this.cost;
    for (let i = 0; i < this.entries.length && this.entries[i]!.nonce < accountNonce; i++) {
      cost -= this.entries[i]!.cost;
    }
    return cost;
  }

  insertAt(i: number, entry: Entry): void {
    this.entries.splice(i, 0, entry);
    this.cost += entry.cost;
    if (entry.rate > this.maxRate) this.maxRate = entry.rate;
    this.copyTailKey();
  }

  replaceAt(i: number, entry: Entry): Entry {
    const old = this.entries[i]!;
    this.entries[i] = entry;
    this.cost += entry.cost - old.cost;
    if (entry.rate > this.maxRate) this.maxRate = entry.rate;
    else if (old.rate === this.maxRate) this.recomputeMaxRate();
    this.copyTailKey();
    return old;
  }

  removeAt(i: number): Entry {
    const old = this.entries[i]!;
    if (i === this.entries.length - 1) this.entries.pop();
    else this.entries.splice(i, 1);
    this.cost -= old.cost;
    if (old.rate === this.maxRate) this.recomputeMaxRate();
    this.copyTailKey();
    return old;
  }

  private copyTailKey(): void {
    const t = this.entries[this.entries.length - 1];
    if (t === undefined) return;
    this.tailRate = t.rate;
    this.tailSeq = t.seq;
  }

  /** O(entries) (at most maxPerSender), only when the best entry leaves. */
  private recomputeMaxRate(): void {
    let max = -1;
    for (const e of this.entries) if (e.rate > max) max = e.rate;
    this.maxRate = max;
  }
}
