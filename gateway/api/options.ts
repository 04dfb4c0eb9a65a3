/** API server limits and the windows of its statistics; every field has a default. */
import { MAX_TX_BYTES } from '../../core/tx.js';

export interface ApiOptions {
  /** Largest body of POST /txs: one transaction as CBOR, or as hex inside {"tx": ...}. */
  readonly maxTxBodyBytes: number;
  /** Largest body of POST /txs/batch. */
  readonly maxBatchBodyBytes: number;
  /** Most transactions in one batch. */
  readonly maxBatchTxs: number;
  /** Admitted transactions are gossiped in 'txs' messages at least this often... */
  readonly gossipFlushMs: number;
  /** ...or as soon as this many are waiting. */
  readonly gossipBatchTxs: number;
  /** Sliding window of the finalized tx/s figure. */
  readonly tpsWindowMs: number;
  /** Latency samples kept per grade for the p50/p99 of /status (the most recent ones). */
  readonly latencySamples: number;
  /** Transactions submitted here whose grades are tracked (LRU). */
  readonly trackedTxs: number;
  /** Proposed, not yet final blocks kept for grade-1 answers. */
  readonly trackedBlocks: number;
  /** A request (headers and body) must arrive within this time. */
  readonly requestTimeoutMs: number;
}

export const defaultApiOptions: ApiOptions = {
  // Hex doubles the bytes; 4 KiB for the JSON around it.
  maxTxBodyBytes: 2 * MAX_TX_BYTES + 4096,
  maxBatchBodyBytes: 8 * 1024 * 1024,
  maxBatchTxs: 10_000,
  gossipFlushMs: 5,
  gossipBatchTxs: 256,
  tpsWindowMs: 10_000,
  latencySamples: 2048,
  trackedTxs: 100_000,
  trackedBlocks: 64,
  requestTimeoutMs: 10_000,
};
