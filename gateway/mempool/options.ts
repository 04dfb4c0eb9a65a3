/** Mempool limits and policies; every field has a default, `createMempool` checks what callers override. */
import { auint } from '../../core/bytes.js';
import { ArgumentError } from '../../core/errors.js';

export interface MempoolOptions {
  /** Transactions held at most. */
  maxTxs: number;
  /** Sum of the held transactions' wire bytes at most (decoded objects cost more heap: see the bench). */
  maxBytes: number;
  /**
   * Entries per sender at most, and the nonce window: a sender may queue nonces account.nonce ..
   * account.nonce + maxPerSender - 1.
   */
  maxPerSender: number;
  /** Smallest fee admitted (absolute, in the smallest unit). */
  minFee: bigint;
  /** expiry <= now + maxTtlMs: bounds how long an admitted transaction (or a replay of it) can sit here. */
  maxTtlMs: number;
  /** A same-sender, same-nonce replacement pays at least this many percent more fee (and at least 1 more). */
  replaceBumpPercent: number;
  /** Ids of included transactions remembered, so a replay is refused before the state catches up. */
  recentIncludedIds: number;
  /**
   * Senders whose account is re-read per onBlockCommitted, round robin, besides those of the included
   * transactions: drops entries made stale by transactions this node never saw, without one state read per
   * sender per block.
   */
  recheckSendersPerBlock: number;
  /** System transactions (no nonce, no fee) held at most, in all and per sender (system-lane.ts). */
  maxSystemTxs: number;
  maxSystemPerSender: number;
}

export const defaultMempoolOptions: Readonly<MempoolOptions> = {
  maxTxs: 50_000,
  maxBytes: 64 * 1024 * 1024,
  maxPerSender: 256,
  minFee: 0n,
  maxTtlMs: 3_600_000,
  replaceBumpPercent: 10,
  // Three full blocks (core MAX_BLOCK_TXS = 20,000) of lag between finality and the state the caller passes.
  recentIncludedIds: 65_536,
  // 50,000 senders are all re-read within 49 blocks, at 1,024 state reads per block.
  recheckSendersPerBlock: 1024,
  // A committee's DKG puts at most a dealing and a few complaints per member in flight, plus evidence.
  maxSystemTxs: 1024,
  maxSystemPerSender: 8,
};

/** Fills defaults and checks every field; ArgumentError names the bad one. */
export function resolveMempoolOptions(options: Partial<MempoolOptions> = {}): MempoolOptions {
  const o: MempoolOptions = { ...defaultMempoolOptions, ...options };
  for (const name of ['maxTxs', 'maxBytes', 'maxPerSender'] as const) {
    if (auint(o[name], name) < 1) throw new ArgumentError(name, 'must be at least 1');
  }
  auint(o.maxTtlMs, 'maxTtlMs');
  auint(o.replaceBumpPercent, 'replaceBumpPercent');
  auint(o.recentIncludedIds, 'recentIncludedIds');
  auint(o.recheckSendersPerBlock, 'recheckSendersPerBlock');
  for (const name of ['maxSystemTxs', 'maxSystemPerSender'] as const) {
    if (auint(o[name], name) < 1) throw new ArgumentError(name, 'must be at least 1');
  }
  if (typeof o.minFee !== 'bigint' || o.minFee < 0n) {
    throw new ArgumentError('minFee', 'expected a non-negative bigint');
  }
  return o;
}
