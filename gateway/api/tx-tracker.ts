/**
 * Confirmation grades as this gateway sees them (docs/consensus.md §4.4), fed by consensus events:
 *   - grade 1: the transaction is in a valid proposal of a league member (kept until its height is final);
 *   - grade 2: it is in a final block (the block store answers with the proof; this only times it).
 * For transactions submitted to THIS gateway it also measures submission -> grade 1 / grade 2 latency, and
 * for every finalized block the recent tx/s. Memory is bounded: an LRU of submitted ids, the proposals of
 * heights not yet final (at most `trackedBlocks`), and fixed-size sample rings.
 */
import type { BlockHeader } from '../../core/header.js';
import type { ConsensusEvents } from '../consensus/interface.js';
import { latin1 } from '../util/latin1.js';
import type { ApiOptions } from './options.js';

export interface ProposedBlock {
  readonly height: number;
  readonly blockId: Uint8Array;
  readonly header: BlockHeader;
  readonly txIds: readonly Uint8Array[];
}

/** A tracked proposal; its id -> index map is built on the first query (most proposals are never asked about). */
interface Tracked extends ProposedBlock {
  index?: Map<string, number>;
}

/** Map key of an id: one char per byte (hex through core's toHex concatenates 64 one-char strings). */
const keyOf = latin1;

/** What consensus reports for a proposal, plus the header when it is known. */
export interface ProposalInfo {
  readonly height: number;
  readonly blockId: Uint8Array;
  readonly txIds: readonly Uint8Array[];
  readonly valid: boolean;
  readonly header: BlockHeader;
}

interface Submitted {
  readonly at: number;
  grade1At?: number;
}

export interface LatencySummary {
  /** Milliseconds; null without samples. */
  readonly p50: number | null;
  readonly p99: number | null;
  readonly samples: number;
}

/** A fixed-size ring of (time, value) samples. */
class SampleRing {
  private readonly at: Float64Array;
  private readonly values: Float64Array;
  private next = 0;
  private count = 0;
  constructor(private readonly capacity: number) {
    this.at = new Float64Array(capacity);
    this.values = new Float64Array(capacity);
  }
  push(at: number, value: number): void {
    this.at[this.next] = at;
    this.values[this.next] = value;
    this.next = (this.next + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }
  /** Values of samples taken at or after `since`. */
  since(since: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.count; i++) if (this.at[i]! >= since) out.push(this.values[i]!);
    return out;
  }
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Latency percentiles cover the last minute: older samples describe a network that may have changed. */
const LATENCY_WINDOW_MS = 60_000;

export class TxTracker {
  private readonly submitted = new Map<string, Submitted>();
  /** Proposals of heights above the final height, by block id (hex). */
  private readonly proposals = new Map<string, Tracked>();
  private readonly latency: Readonly<Record<1 | 2, SampleRing>>;
  private readonly finalizedTxs: SampleRing;
  private readonly startedAt: number;
  private finalHeight = 0;

  constructor(
    private readonly opts: Pick<
      ApiOptions,
      'trackedTxs' | 'trackedBlocks' | 'latencySamples' | 'tpsWindowMs'
    >,
    private readonly deps: {
      readonly now: () => number;
      readonly onGrade?: (grade: 1 | 2, seconds: number) => void;
    },
  ) {
    this.latency = { 1: new SampleRing(opts.latencySamples), 2: new SampleRing(opts.latencySamples) };
    // One sample per finalized block: at two blocks per second the window needs 20; keep plenty.
    this.finalizedTxs = new SampleRing(4096);
    this.startedAt = deps.now();
  }

  /** A transaction this gateway admitted from a client: its grades will be timed. */
  submit(id: Uint8Array): void {
    const key = keyOf(id);
    if (this.submitted.has(key)) return;
    this.submitted.set(key, { at: this.deps.now() });
    if (this.submitted.size > this.opts.trackedTxs) {
      this.submitted.delete(this.submitted.keys().next().value!);
    }
  }

  proposal(info: ProposalInfo): void {
    const key = keyOf(info.blockId);
    const header = info.header;
    if (!info.valid || info.height <= this.finalHeight || this.proposals.has(key)) return;
    this.proposals.set(key, { height: info.height, blockId: info.blockId, header, txIds: info.txIds });
    if (this.proposals.size > this.opts.trackedBlocks) {
      this.proposals.delete(this.proposals.keys().next().value!);
    }
    if (this.submitted.size === 0) return;
    const now = this.deps.now();
    for (const id of info.txIds) {
      const s = this.submitted.get(keyOf(id));
      if (s && s.grade1At === undefined) {
        s.grade1At = now;
        this.record(1, s.at, now - s.at);
      }
    }
  }

  finalized(height: number, txIds: readonly Uint8Array[]): void {
    const now = this.deps.now();
    this.finalHeight = Math.max(this.finalHeight, height);
    this.finalizedTxs.push(now, txIds.length);
    if (this.submitted.size > 0)
      for (const id of txIds) {
        const key = keyOf(id);
        const s = this.submitted.get(key);
        if (!s) continue;
        this.submitted.delete(key);
        this.record(2, s.at, now - s.at);
      }
    for (const [k, p] of this.proposals) if (p.height <= this.finalHeight) this.proposals.delete(k);
  }

  /** A latency sample, kept by its submission time (so a window selects the transactions sent in it). */
  private record(grade: 1 | 2, submittedAt: number, ms: number): void {
    this.latency[grade].push(submittedAt, ms);
    this.deps.onGrade?.(grade, ms / 1000);
  }

  /** The not-yet-final proposal holding a transaction, with its index there. */
  grade1(id: Uint8Array): { block: ProposedBlock; index: number } | undefined {
    const key = keyOf(id);
    let best: { block: ProposedBlock; index: number } | undefined;
    for (const block of this.proposals.values()) {
      if (block.index === undefined) {
        block.index = new Map();
        for (const [i, txId] of block.txIds.entries()) block.index.set(keyOf(txId), i);
      }
      const index = block.index.get(key);
      // Several views may propose it: report the latest.
      if (index !== undefined && (!best || block.header.view >= best.block.header.view))
        best = { block, index };
    }
    return best;
  }

  /** Percentiles over the transactions submitted since `since` (clock ms; default: the last minute). */
  latencySummary(grade: 1 | 2, since?: number): LatencySummary {
    const from = Math.max(since ?? 0, this.deps.now() - LATENCY_WINDOW_MS);
    const samples = this.latency[grade].since(from).sort((a, b) => a - b);
    return { p50: percentile(samples, 50), p99: percentile(samples, 99), samples: samples.length };
  }

  /** Finalized transactions per second over the sliding window (or since start, if shorter). */
  txPerSecond(): number {
    const now = this.deps.now();
    const window = Math.min(this.opts.tpsWindowMs, Math.max(1, now - this.startedAt));
    const total = this.finalizedTxs.since(now - window).reduce((a, b) => a + b, 0);
    return (total * 1000) / window;
  }

  /** The consensus events that feed it (composed with the metrics' and the caller's in node.ts). */
  readonly events: ConsensusEvents = {
    proposal: (info) => this.proposal(info as ProposalInfo),
    finalized: ({ parsed }) => this.finalized(parsed.block.header.height, parsed.txIds),
  };
}
