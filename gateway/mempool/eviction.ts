/**
 * Which entries leave a full pool so that a newcomer fits. Candidates are sender tails (each sender's
 * highest nonce: evicting anything else would strand the nonces above it), cheapest fee per byte first
 * (ties: the later admission first); once a sender's tail is taken, its next entry down becomes a
 * candidate. The newcomer must pay a strictly higher rate than every victim, and may not evict its own
 * sender's lower nonces (it needs them to execute). The plan only reads the tail heap: a refused newcomer
 * (MEMPOOL_FULL) leaves the pool as it was.
 */
import { BinaryHeap } from './heap.js';
import { MempoolError } from './interface.js';
import { type Entry, evictsBefore, type SenderQueue } from './sender-queue.js';

export interface EvictionRequest {
  /** The pool now. */
  readonly count: number;
  readonly bytes: number;
  readonly maxTxs: number;
  readonly maxBytes: number;
  readonly newcomer: {
    readonly size: number;
    readonly rate: number;
    readonly nonce: number;
    /** Its sender's queue, if the sender has one. */
    readonly queue: SenderQueue | undefined;
    /** The entry it replaces (same sender and nonce), if any: it leaves anyway and is no victim. */
    readonly replaced: Entry | undefined;
  };
}

interface Candidate {
  readonly entry: Entry;
  /** Index in the tail heap, or -1 for an entry that only becomes a tail once those above it are gone. */
  readonly heapIndex: number;
  /** Its index in its sender's queue. */
  readonly pos: number;
}

const NO_VICTIMS: readonly Entry[] = [];

/** The entries to evict (none if the newcomer fits); throws MEMPOOL_FULL if it cannot be made to fit. */
export function planEviction(tails: BinaryHeap<SenderQueue>, r: EvictionRequest): readonly Entry[] {
  const { size, rate, nonce, queue: own, replaced } = r.newcomer;
  const needCount = r.count + (replaced === undefined ? 1 : 0) - r.maxTxs;
  const needBytes = r.bytes + size - (replaced?.size ?? 0) - r.maxBytes;
  if (needCount <= 0 && needBytes <= 0) return NO_VICTIMS;
  const full = (): never => {
    throw new MempoolError('MEMPOOL_FULL', 'pool full of transactions paying at least as much', {
      size: r.count,
      bytes: r.bytes,
    });
  };
  if (size > r.maxBytes) full();
  // Walks the tail heap in order without popping it: a node's children join when the node is taken.
  const candidates = new BinaryHeap<Candidate>((a, b) => evictsBefore(a.entry, b.entry));
  const fromHeap = (heapIndex: number): void => {
    const q = tails.at(heapIndex);
    if (q !== undefined) candidates.push({ entry: q.tail, heapIndex, pos: q.length - 1 });
  };
  fromHeap(0);
  const victims: Entry[] = [];
  let freedCount = 0;
  let freedBytes = 0;
  while (freedCount < needCount || freedBytes < needBytes) {
    const c = candidates.pop();
    if (c === undefined) return full();
    if (c.heapIndex >= 0) {
      fromHeap(2 * c.heapIndex + 1);
      fromHeap(2 * c.heapIndex + 2);
    }
    const e = c.entry;
    if (!(rate > e.rate) || (e.queue === own && e.nonce <= nonce)) return full();
    victims.push(e);
    freedCount++;
    freedBytes += e.size;
    if (c.pos > 0) candidates.push({ entry: e.queue.entries[c.pos - 1]!, heapIndex: -1, pos: c.pos - 1 });
  }
  return victims;
}
