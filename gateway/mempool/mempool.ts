/**
 * The mempool (contract: interface.ts). Admission runs the cheap checks first, planning any eviction
 * without carrying it out among them, and the signatures last (~77 us per Ed25519 verify, native: most of an
 * admission's cost); only then does anything change, so every refusal leaves the pool exactly as it was.
 * Per-sender queues: sender-queue.ts; block selection: select.ts; who leaves a full pool: eviction.ts.
 *
 * Priority is fee per byte, both into blocks and (reversed) out of a full pool. Bytes are what every node
 * pays for a transaction (gossip, storage, block space: MAX_BLOCK_BYTES is a consensus limit), and a rate
 * stops a large transaction (a 30 KiB dkgDeal) from buying a block's worth of space with a fee only a bit
 * above one small transfer's. When the pool is full the newcomer may evict the lowest-rate sender tails
 * (each sender's highest nonce, so no queue gets a hole), if it pays a strictly higher rate than each.
 */
import { abytes, auint, toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { ArgumentError, IosnetError } from '../../core/errors.js';
import { addressOf } from '../../core/identity.js';
import { assertMaxSize } from '../../core/object.js';
import {
  isSystemTx,
  MAX_TX_BYTES,
  parseTx,
  type Transaction,
  type TxKindName,
  verifyTxSignatures,
} from '../../core/tx.js';
import type { StateReader } from '../state/interface.js';
import { latin1 } from '../util/latin1.js';
import { planEviction } from './eviction.js';
import { ExpiryIndex } from './expiry-index.js';
import { BinaryHeap } from './heap.js';
import { type AddSource, type Mempool, MempoolError, type PendingTx } from './interface.js';
import { type MempoolOptions, resolveMempoolOptions } from './options.js';
import { selectForBlock } from './select.js';
import { type Entry, feeRate, SenderQueue, tailEvictsBefore, txCost } from './sender-queue.js';
import { SystemLane } from './system-lane.js';

export interface MempoolModules {
  readonly crypto: Crypto;
  /** Transactions of any other chain are refused (MEMPOOL_WRONG_CHAIN). */
  readonly chainId: string;
  /** A peer relayed a transaction whose signature is forged (found by confirm or by a replacement). */
  readonly onForged?: (peer: string, id: Uint8Array) => void;
  /**
   * Which relayed transactions to check on admission (docs/consensus.md §5: sampled verification); the
   * others wait unchecked for confirm(). Absent: every relayed transaction is checked on admission.
   */
  readonly relaySample?: (id: Uint8Array) => boolean;
}

/**
 * Kinds refused for now: an atomix lock moves funds to `locked` and commits/aborts carry proofs whose
 * validity depends on other shards, so their admission rules (and cost) need a design of their own.
 */
const UNSUPPORTED_KINDS: ReadonlySet<TxKindName> = new Set(['atomixLock', 'atomixCommit', 'atomixAbort']);

/** Map key of a byte string: one char per byte (gateway/util/latin1.ts). */
const keyOf = latin1;

/** Insertion-ordered set of tx ids that forgets the oldest beyond its capacity. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}
  has(key: string): boolean {
    return this.ids.has(key);
  }
  remember(key: string): void {
    if (this.capacity === 0 || this.ids.has(key)) return;
    if (this.ids.size >= this.capacity) this.ids.delete(this.ids.values().next().value!);
    this.ids.add(key);
  }
}

/** What check() found: everything admit() needs. */
interface Admission {
  readonly tx: Transaction;
  readonly id: Uint8Array;
  readonly key: string;
  readonly senderKey: string;
  readonly address: Uint8Array;
  /** Index of the replaced entry in its sender's queue (when `replaced`). */
  readonly pos: number;
  readonly replaced: Entry | undefined;
  readonly cost: bigint;
  readonly size: number;
  readonly rate: number;
  readonly victims: readonly Entry[];
  /** Whether the signatures were checked (always, except relayed transactions outside the sample). */
  readonly verified: boolean;
}

/** One second: with maxTtlMs = 1 h, at most 3,600 buckets. */
const EXPIRY_BUCKET_MS = 1000;

export function createMempool(options: Partial<MempoolOptions>, modules: MempoolModules): Mempool {
  return new PriorityMempool(resolveMempoolOptions(options), modules);
}

class PriorityMempool implements Mempool {
  private readonly byId = new Map<string, Entry>();
  private readonly senders = new Map<string, SenderQueue>();
  /** Every sender queue, lowest-priority tail on top: the eviction order. */
  private readonly tails = new BinaryHeap<SenderQueue>(tailEvictsBefore, (q, i) => {
    q.tailIndex = i;
  });
  /** Every sender queue, best entry's rate on top: where block selection starts. */
  private readonly heads = new BinaryHeap<SenderQueue>(
    (a, b) => a.maxRate > b.maxRate,
    (q, i) => {
      q.headIndex = i;
    },
  );
  private readonly expiries = new ExpiryIndex<Entry>(EXPIRY_BUCKET_MS);
  private readonly recent: RecentIds;
  private sweep: Iterator<SenderQueue> | undefined;
  private totalBytes = 0;
  private seq = 0;
  private readonly crypto: Crypto;
  private readonly chainId: string;
  private readonly system: SystemLane;
  private readonly onForged: ((peer: string, id: Uint8Array) => void) | undefined;
  private readonly relaySample: ((id: Uint8Array) => boolean) | undefined;

  constructor(
    private readonly opts: MempoolOptions,
    modules: MempoolModules,
  ) {
    this.crypto = modules.crypto;
    this.chainId = modules.chainId;
    this.onForged = modules.onForged;
    this.relaySample = modules.relaySample;
    this.recent = new RecentIds(opts.recentIncludedIds);
    this.system = new SystemLane(opts.maxSystemTxs, opts.maxSystemPerSender);
  }

  get size(): number {
    return this.byId.size + this.system.size;
  }

  get bytes(): number {
    return this.totalBytes + this.system.bytes;
  }

  has(id: Uint8Array): boolean {
    const key = keyOf(abytes(id, 'id'));
    return this.byId.has(key) || this.system.get(key) !== undefined;
  }

  get(id: Uint8Array): PendingTx | undefined {
    const key = keyOf(abytes(id, 'id'));
    return this.byId.get(key)?.pending ?? this.system.get(key);
  }

  drop(ids: readonly Uint8Array[]): void {
    for (const id of ids) {
      const key = keyOf(abytes(id, 'id'));
      if (this.system.remove(key)) continue;
      const e = this.byId.get(key);
      if (e !== undefined) this.remove(e);
    }
  }

  add(bytes: Uint8Array, state: StateReader, now: number, source?: AddSource): PendingTx {
    atime(now);
    assertMaxSize(bytes, MAX_TX_BYTES, 'tx');
    // Our own copy first (a network layer may hand us a view into a frame buffer it reuses), decoded with
    // views into it: one allocation per transaction instead of one per byte field (measured: parseTx 12.9 ->
    // ~8.5 us and ~530 fewer retained bytes per pooled transaction).
    const own = new Uint8Array(bytes);
    const { tx, id } = parseTx(this.crypto, own, true);
    // System transactions (few, and consensus acts on them) are always checked at once.
    if (isSystemTx(tx.body.payload.kind)) return this.addSystem(tx, id, own, now);
    return this.admit(this.check(tx, id, own, state, now, source), own, now, source);
  }

  confirm(pending: PendingTx): boolean {
    if (pending.verified) return true;
    try {
      verifyTxSignatures(this.crypto, pending.tx, pending.id);
      pending.verified = true;
      return true;
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      const entry = this.byId.get(keyOf(pending.id));
      if (entry !== undefined && entry.pending === pending) this.remove(entry);
      if (pending.relayedBy !== undefined) this.onForged?.(pending.relayedBy, pending.id);
      return false;
    }
  }

  /**
   * An entry admitted unchecked that stands in a newcomer's way (same id, or the same sender and nonce) with
   * other signature bytes: checked now, and removed if forged — a peer must not be able to block a genuine
   * transaction by relaying a forged copy first. True if it was removed.
   */
  private removedIfForged(e: Entry, newcomer: Transaction): boolean {
    const p = e.pending;
    if (p.verified || sameSignatures(p.tx, newcomer)) return false;
    return !this.confirm(p);
  }

  /** System transactions: chain, expiry, duplicates, lane limits, signatures; no nonce, no fee, no funds. */
  private addSystem(tx: Transaction, id: Uint8Array, bytes: Uint8Array, now: number): PendingTx {
    const body = tx.body;
    if (body.chainId !== this.chainId) {
      fail('MEMPOOL_WRONG_CHAIN', `chain id ${body.chainId}, expected ${this.chainId}`, {
        expected: this.chainId,
        got: body.chainId,
      });
    }
    if (body.expiry <= now) fail('MEMPOOL_EXPIRED', 'expired', { expiry: body.expiry, now });
    if (body.expiry > now + this.opts.maxTtlMs) {
      fail('MEMPOOL_TTL_TOO_LONG', `expiry more than ${this.opts.maxTtlMs} ms ahead`, {
        expiry: body.expiry,
        max: now + this.opts.maxTtlMs,
      });
    }
    const key = keyOf(id);
    if (this.system.get(key) || this.recent.has(key)) {
      fail('MEMPOOL_DUPLICATE', 'transaction already known', {
        id: toHex(id),
        included: this.recent.has(key),
      });
    }
    const senderKey = keyOf(body.sender);
    const refusal = this.system.refusal(senderKey);
    if (refusal === 'full')
      fail('MEMPOOL_FULL', 'the system transaction lane is full', { limit: this.opts.maxSystemTxs });
    if (refusal === 'sender') {
      fail('MEMPOOL_SENDER_LIMIT', 'sender holds too many system transactions', {
        limit: this.opts.maxSystemPerSender,
      });
    }
    verifyTxSignatures(this.crypto, tx, id);
    const pending: PendingTx = { tx, id, bytes, receivedAt: now, verified: true };
    this.system.add(key, senderKey, pending, body.expiry);
    return pending;
  }

  /** Every admission rule, in order, cheapest first and signatures last; reads the pool, changes nothing. */
  private check(
    tx: Transaction,
    id: Uint8Array,
    bytes: Uint8Array,
    state: StateReader,
    now: number,
    source?: AddSource,
  ): Admission {
    const body = tx.body;
    const o = this.opts;
    if (body.chainId !== this.chainId) {
      fail('MEMPOOL_WRONG_CHAIN', `chain id ${body.chainId}, expected ${this.chainId}`, {
        expected: this.chainId,
        got: body.chainId,
      });
    }
    if (body.expiry <= now) fail('MEMPOOL_EXPIRED', 'expired', { expiry: body.expiry, now });
    if (body.expiry > now + o.maxTtlMs) {
      fail('MEMPOOL_TTL_TOO_LONG', `expiry more than ${o.maxTtlMs} ms ahead`, {
        expiry: body.expiry,
        max: now + o.maxTtlMs,
      });
    }
    if (body.fee < o.minFee) {
      fail('MEMPOOL_FEE_TOO_LOW', `fee ${body.fee} below ${o.minFee}`, { fee: body.fee, required: o.minFee });
    }
    const kind = body.payload.kind;
    if (UNSUPPORTED_KINDS.has(kind)) fail('MEMPOOL_UNSUPPORTED', `${kind} is not accepted yet`, { kind });
    const key = keyOf(id);
    const same = this.byId.get(key);
    if (same !== undefined && this.removedIfForged(same, tx))
      return this.check(tx, id, bytes, state, now, source);
    if (same !== undefined || this.recent.has(key)) {
      fail('MEMPOOL_DUPLICATE', 'transaction already known', {
        id: toHex(id),
        included: same === undefined,
      });
    }

    const senderKey = keyOf(body.sender);
    const queue = this.senders.get(senderKey);
    const address = queue?.address ?? addressOf(this.crypto, body.sender);
    const account = state.getAccount(address);
    if (body.nonce < account.nonce) {
      fail('MEMPOOL_NONCE_TOO_LOW', `nonce ${body.nonce} below the account's ${account.nonce}`, {
        nonce: body.nonce,
        accountNonce: account.nonce,
      });
    }
    if (body.nonce >= account.nonce + o.maxPerSender) {
      fail('MEMPOOL_NONCE_TOO_HIGH', `nonce ${body.nonce} beyond the window`, {
        nonce: body.nonce,
        maxNonce: account.nonce + o.maxPerSender - 1,
      });
    }
    const pos = queue === undefined ? -1 : queue.find(body.nonce);
    const replaced = pos >= 0 ? queue!.entries[pos] : undefined;
    if (replaced !== undefined && this.removedIfForged(replaced, tx))
      return this.check(tx, id, bytes, state, now, source);
    if (replaced !== undefined) {
      // "At least 1 more" too: with a zero fee, 10% more is still zero, and replacements would be free churn.
      const bumped = (replaced.fee * BigInt(100 + o.replaceBumpPercent) + 99n) / 100n;
      const required = bumped > replaced.fee ? bumped : replaced.fee + 1n;
      if (body.fee < required) {
        fail('MEMPOOL_FEE_TOO_LOW', `a replacement must pay at least ${required}`, {
          fee: body.fee,
          required,
          replaces: toHex(replaced.pending.id),
        });
      }
    }
    const cost = txCost(tx);
    const queued = queue === undefined ? 0n : queue.liveCost(account.nonce) - (replaced?.cost ?? 0n);
    if (queued + cost > account.balance) {
      fail('MEMPOOL_INSUFFICIENT_FUNDS', 'balance does not cover the queued transactions and this one', {
        required: queued + cost,
        balance: account.balance,
      });
    }
    if (replaced === undefined && queue !== undefined && queue.length >= o.maxPerSender) {
      fail('MEMPOOL_SENDER_LIMIT', `sender already holds ${queue.length} transactions`, {
        limit: o.maxPerSender,
      });
    }
    const size = bytes.length;
    const rate = feeRate(body.fee, size);
    const victims = planEviction(this.tails, {
      count: this.byId.size,
      bytes: this.totalBytes,
      maxTxs: o.maxTxs,
      maxBytes: o.maxBytes,
      newcomer: { size, rate, nonce: body.nonce, queue, replaced },
    });
    // Signatures last (the costly check); a relayed transaction outside this node's sample waits for confirm().
    const verified = source === undefined || this.relaySample === undefined || this.relaySample(id);
    if (verified) verifyTxSignatures(this.crypto, tx, id);
    return { tx, id, key, senderKey, address, pos, replaced, cost, size, rate, victims, verified };
  }

  /** Carries out a checked admission: evictions, then the new entry. */
  private admit(a: Admission, bytes: Uint8Array, now: number, source?: AddSource): PendingTx {
    const { tx, key, senderKey, pos, replaced, size } = a;
    const body = tx.body;
    for (const v of a.victims) this.remove(v);
    // `bytes` is add()'s own copy, which the decoded fields view.
    const pending: PendingTx =
      source === undefined
        ? { tx, id: a.id, bytes, receivedAt: now, verified: true }
        : {
            tx,
            id: a.id,
            bytes,
            receivedAt: now,
            verified: a.verified,
            relayedBy: source.relayedBy,
          };
    let q = this.senders.get(senderKey);
    if (q === undefined) {
      q = new SenderQueue(senderKey, body.sender, a.address);
      this.senders.set(senderKey, q);
    }
    const entry: Entry = {
      pending,
      key,
      queue: q,
      nonce: body.nonce,
      fee: body.fee,
      cost: a.cost,
      size,
      expiry: body.expiry,
      rate: a.rate,
      seq: this.seq++,
    };
    if (replaced !== undefined) {
      // Evictions only take nonces above this one, so the replaced entry is still where it was.
      q.replaceAt(pos, entry);
      this.byId.delete(replaced.key);
      this.expiries.delete(replaced);
      this.totalBytes -= replaced.size;
    } else {
      q.insertAt(-q.find(body.nonce) - 1, entry);
    }
    this.byId.set(key, entry);
    this.expiries.add(entry);
    this.totalBytes += size;
    if (q.tailIndex < 0) {
      this.tails.push(q);
      this.heads.push(q);
    } else {
      this.tails.updateAt(q.tailIndex);
      this.heads.updateAt(q.headIndex);
    }
    return pending;
  }

  select(limits: { maxTxs: number; maxBytes: number }, state: StateReader, now: number): PendingTx[] {
    auint(limits.maxTxs, 'limits.maxTxs');
    auint(limits.maxBytes, 'limits.maxBytes');
    atime(now);
    // System transactions first: few, small next to a block, and consensus waits for them.
    const system = this.system.select(limits.maxTxs, limits.maxBytes, now);
    let bytes = 0;
    for (const p of system) bytes += p.bytes.length;
    const rest = selectForBlock(
      this.heads,
      { maxTxs: limits.maxTxs - system.length, maxBytes: limits.maxBytes - bytes },
      state,
      now,
    );
    return system.length === 0 ? rest : [...system, ...rest];
  }

  onBlockCommitted(includedIds: readonly Uint8Array[], state: StateReader, now: number): void {
    atime(now);
    for (let i = 0; i < includedIds.length; i++) abytes(includedIds[i], `includedIds[${i}]`);
    const recheck = new Set<SenderQueue>();
    for (const id of includedIds) {
      const key = keyOf(id);
      this.recent.remember(key);
      if (this.system.remove(key)) continue;
      const e = this.byId.get(key);
      if (e !== undefined) {
        this.remove(e);
        if (e.queue.length > 0) recheck.add(e.queue);
      }
    }
    // Round robin over the senders: their nonces may have moved through transactions we never held.
    const n = Math.min(this.opts.recheckSendersPerBlock, this.senders.size);
    for (let k = 0; k < n; k++) {
      let next = this.sweep?.next();
      if (next === undefined || next.done) {
        this.sweep = this.senders.values();
        next = this.sweep.next();
        if (next.done) break;
      }
      recheck.add(next.value);
    }
    for (const q of recheck) {
      if (q.length === 0) continue; // emptied meanwhile (an emptied queue is never reused)
      const accountNonce = state.getAccount(q.address).nonce;
      while (q.length > 0 && q.entries[0]!.nonce < accountNonce) this.remove(q.entries[0]!);
    }
    for (const e of this.expiries.expired(now)) this.remove(e);
    this.system.expire(now);
  }

  private remove(e: Entry): void {
    const q = e.queue;
    const i = q.find(e.nonce);
    if (i < 0 || q.entries[i] !== e) return; // already gone
    q.removeAt(i);
    this.byId.delete(e.key);
    this.expiries.delete(e);
    this.totalBytes -= e.size;
    if (q.length === 0) {
      this.tails.removeAt(q.tailIndex);
      this.heads.removeAt(q.headIndex);
      q.tailIndex = -1;
      q.headIndex = -1;
      this.senders.delete(q.key);
    } else {
      if (i === q.length) this.tails.updateAt(q.tailIndex);
      this.heads.updateAt(q.headIndex);
    }
  }
}

function sameSignatures(a: Transaction, b: Transaction): boolean {
  if (a.signatures.length !== b.signatures.length) return false;
  for (let i = 0; i < a.signatures.length; i++) {
    const x = a.signatures[i]!;
    const y = b.signatures[i]!;
    if (x.length !== y.length) return false;
    for (let k = 0; k < x.length; k++) if (x[k] !== y[k]) return false;
  }
  return true;
}

/** A clock reading in ms: any finite, non-negative number (a simulated clock may have fractions). */
function atime(now: unknown): void {
  if (typeof now !== 'number' || !Number.isFinite(now) || now < 0) {
    throw new ArgumentError('now', 'expected a finite, non-negative time in ms');
  }
}

function fail(code: MempoolError['code'], message: string, data: Record<string, unknown>): never {
  throw new MempoolError(code, message, data);
}
