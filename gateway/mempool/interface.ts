/**
 * The mempool: transactions waiting for a block. Bounded in count and bytes; per-sender nonce order; fee
 * priority across senders; duplicates and replays refused. Every refusal is a typed error and changes
 * nothing. (Decoding and signature errors surface as core's DecodeError / VerifyError.)
 */
import { IosnetError } from '../../core/errors.js';
import type { Transaction } from '../../core/tx.js';
import type { StateReader } from '../state/interface.js';

export type MempoolErrorCode =
  | 'MEMPOOL_DUPLICATE'
  | 'MEMPOOL_FULL'
  | 'MEMPOOL_FEE_TOO_LOW'
  | 'MEMPOOL_NONCE_TOO_LOW'
  | 'MEMPOOL_NONCE_TOO_HIGH'
  | 'MEMPOOL_EXPIRED'
  | 'MEMPOOL_TTL_TOO_LONG'
  | 'MEMPOOL_SENDER_LIMIT'
  | 'MEMPOOL_INSUFFICIENT_FUNDS'
  | 'MEMPOOL_WRONG_CHAIN'
  | 'MEMPOOL_UNSUPPORTED';

export class MempoolError extends IosnetError<MempoolErrorCode> {}

export interface PendingTx {
  readonly tx: Transaction;
  readonly id: Uint8Array;
  /** The exact bytes received (forwarded and included as they are). */
  readonly bytes: Uint8Array;
  /** When this node admitted it (ms), for latency metrics. */
  readonly receivedAt: number;
  /**
   * Whether this node checked its signatures. Transactions a peer relays are admitted unchecked (every other
   * rule applies); a proposer checks them before it puts them in a block (Mempool.confirm), and a validator
   * checks a block's unchecked ones per its sample (docs/consensus.md §5).
   */
  verified: boolean;
  /** The peer that relayed it (unchecked transactions only): penalized if its signature turns out forged. */
  readonly relayedBy?: string;
}

/** Where a transaction came from: a client (checked in full) or a peer relaying it (checked lazily). */
export interface AddSource {
  readonly relayedBy: string;
}

export interface Mempool {
  /**
   * Decodes, checks and admits a transaction. `now` is the node's clock (ms). Returns the admitted entry;
   * when it replaces a queued one (same sender and nonce, a high enough fee bump), the old one leaves the
   * pool. A refused replacement is MEMPOOL_FEE_TOO_LOW with `data.replaces` (the queued tx's id, hex).
   */
  add(bytes: Uint8Array, state: StateReader, now: number, source?: AddSource): PendingTx;
  /**
   * Checks the signatures of an entry admitted unchecked (true at once for a checked one). A forged one leaves
   * the pool, its relaying peer is reported to `onForged`, and the answer is false.
   */
  confirm(pending: PendingTx): boolean;
  /** Transactions for the next block in inclusion order, within the limits, valid against `state`. */
  select(limits: { maxTxs: number; maxBytes: number }, state: StateReader, now: number): PendingTx[];
  /** After a block is final: drop included transactions and those the new state makes invalid. */
  onBlockCommitted(includedIds: readonly Uint8Array[], state: StateReader, now: number): void;
  /**
   * Removes transactions a proposer found failing for good (system transactions that lost a race: a
   * second beacon signature, a late dealing). Unknown ids are ignored.
   */
  drop(ids: readonly Uint8Array[]): void;
  has(id: Uint8Array): boolean;
  get(id: Uint8Array): PendingTx | undefined;
  readonly size: number;
  readonly bytes: number;
}
