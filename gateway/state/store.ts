/**
 * Persistence of the state (layout: gateway/db/namespaces.ts, docs/state-records.md). LMDB holds the
 * authoritative data and no tree: the trees live in memory (trie.ts) and are rebuilt from the records when
 * the state is opened (load.ts).
 *
 *   stateDelta   every committed block's record changes and root, in the block's own transaction;
 *   stateRecord  the records at the latest checkpoint C, except that the changes of (Cp, C] (Cp: the
 *                previous checkpoint) are folded in over the blocks after C, one key-range slice per block;
 *   stateUndo    per folded slice, the values at Cp of its keys (one value per slice, not per key);
 *   meta         C and Cp with their roots.
 *
 * So stateRecord overlaid with the undo slices of C is always exactly the state at Cp, whatever the fold's
 * progress, and the deltas after Cp lead from there to the latest height. Why fold in slices: writing the
 * ~27,000 records that 16 blocks of 1,000 transfers change takes 100-300 ms of LMDB puts (measured), a
 * stall when done at once; one slice per block is ~1/15 of it and touches ~1/15 of the pages. Why the
 * undo per slice: one put instead of one per key (an LMDB put costs ~4 µs here, measured).
 *
 * Reads never go to LMDB: every record of the latest height is in `index` (the same strings the tree's
 * leaves hold), and the layers of changed keys give the values at the two checkpoints. A Map lookup costs
 * ~0.5 µs where an LMDB get costs 2-5 µs and a walk down the tree ~2 µs of cache misses (measured).
 */
import type { Database, DbBucket } from '../db/interface.js';
import { heightKey, readU64 } from '../db/namespaces.js';
import { bytesOf, latin1 } from '../util/latin1.js';
import {
  type Change,
  encodeChanges,
  encodeDelta,
  META,
  metaKey,
  STORE_FORMAT,
  undoKey,
} from './store-format.js';

/** core's StateNamespace.validator: the one namespace listed in owner order. */
export const VALIDATOR_NAMESPACE = 2;
const VALIDATOR_CHAR = String.fromCharCode(VALIDATOR_NAMESPACE);

/** A record change of a committed block: the stored record as bytes and as latin1, null when deleted. */
export interface BlockChange {
  readonly key: string;
  readonly stored: Uint8Array | null;
  readonly value: string | null;
  /** The key's value before the block (latin1), null when absent. */
  readonly base: string | null;
}

export interface CheckpointMark {
  readonly height: number;
  readonly root: Uint8Array;
}

/** key -> stored record (latin1) at some height, null where the key is absent. */
type Layer = Map<string, string | null>;

/** The keys of one interval still to be written to stateRecord: slice i is due at block firstHeight + i. */
interface FoldPlan {
  readonly checkpoint: Uint8Array;
  readonly slices: string[][];
  readonly firstHeight: number;
  next: number;
}

/** Splits keys into `count` key ranges (by their first 16 bits), so that each slice touches few pages. */
function planSlices(keys: Iterable<string>, count: number): string[][] {
  const slices: string[][] = Array.from({ length: count }, () => []);
  for (const k of keys) {
    const top = (k.charCodeAt(0) << 8) | k.charCodeAt(1);
    slices[Math.floor((top * count) / 65536)]!.push(k);
  }
  return slices;
}

export class StateStore {
  readonly records: DbBucket;
  readonly undo: DbBucket;
  readonly deltas: DbBucket;
  readonly meta: DbBucket;

  checkpoint: CheckpointMark = { height: 0, root: new Uint8Array(32) };
  previous: CheckpointMark | undefined;
  /** Every record at the latest height. */
  readonly index = new Map<string, string>();
  /** Latest values of the keys changed after the checkpoint. */
  recent: Layer = new Map();
  /** Their values at the checkpoint. */
  recentBase: Layer = new Map();
  /** Values at the checkpoint of the keys changed in (previous checkpoint, checkpoint]. */
  interval: Layer = new Map();
  /** Their values at the previous checkpoint. */
  intervalBase: Layer = new Map();
  /** state key -> owner address of every validator at the latest height. */
  readonly validators = new Map<string, Uint8Array>();
  private fold: FoldPlan = { checkpoint: heightKey(0), slices: [], firstHeight: 1, next: 0 };
  private intervalSorted: string[] | undefined;

  constructor(
    readonly db: Database,
    private readonly options: { readonly archive: boolean; readonly checkpointInterval: number },
  ) {
    this.records = db.bucket('stateRecord');
    this.undo = db.bucket('stateUndo');
    this.deltas = db.bucket('stateDelta');
    this.meta = db.bucket('meta');
  }

  readMetaHeight(name: string): number | undefined {
    const v = this.meta.get(metaKey(name));
    return v === undefined ? undefined : readU64(v);
  }

  // ---- reads ----

  /** Stored record (latin1) of a key at the latest height, or undefined. */
  readLatest(key: string): string | undefined {
    return this.index.get(key);
  }

  /**
   * Stored records at a checkpoint in key order, after `after` (exclusive): stateRecord, where the keys of
   * the interval take their value from the layer (the fold may not have written them yet).
   */
  *recordsAt(which: 'checkpoint' | 'previous', after: string | null): Generator<[string, Uint8Array]> {
    const layer = which === 'checkpoint' ? this.interval : this.intervalBase;
    this.intervalSorted ??= [...this.interval.keys()].sort();
    const keys = this.intervalSorted;
    let i = 0;
    if (after !== null) {
      let hi = keys.length;
      while (i < hi) {
        const mid = (i + hi) >>> 1;
        if (keys[mid]! <= after) i = mid + 1;
        else hi = mid;
      }
    }
    const start = after === null ? undefined : bytesOf(after);
    // Merge of two sorted streams; the layer decides for the interval's keys (null: absent).
    for (const [kb, value] of this.records.range(start === undefined ? {} : { start })) {
      const key = latin1(kb);
      if (after !== null && key <= after) continue;
      for (; i < keys.length && keys[i]! < key; i++) {
        const v = layer.get(keys[i]!);
        if (v != null) yield [keys[i]!, bytesOf(v)];
      }
      if (i < keys.length && keys[i] === key) {
        const v = layer.get(keys[i++]!);
        if (v != null) yield [key, bytesOf(v)];
        continue;
      }
      yield [key, value];
    }
    for (; i < keys.length; i++) {
      const v = layer.get(keys[i]!);
      if (v != null) yield [keys[i]!, bytesOf(v)];
    }
  }

  // ---- writes ----

  /** The first records of a store (genesis or a snapshot), inside the caller's transaction. */
  writeInitial(sorted: Iterable<readonly [Uint8Array, Uint8Array]>, mark: CheckpointMark): void {
    for (const [k, v] of sorted) this.records.put(k, v, { append: true });
    this.meta.put(metaKey(META.checkpoint), heightKey(mark.height));
    this.meta.put(metaKey(META.checkpointRoot), mark.root);
    this.meta.put(metaKey(META.format), heightKey(STORE_FORMAT));
  }

  /**
   * Writes one committed block inside the caller's transaction: its delta, the slices of the fold that are
   * due and, at a checkpoint, the rest of the fold, the new marks and the pruning of what only the old
   * previous checkpoint needed. Memory is untouched: the returned function applies the block to it once
   * the transaction has committed (never if it aborts).
   */
  writeBlock(height: number, root: Uint8Array, changes: readonly BlockChange[], isCheckpoint: boolean) {
    const list: Change[] = changes.map((c) => [c.key, c.stored]);
    this.deltas.put(heightKey(height), encodeDelta({ root, changes: list }));
    const fold = this.fold;
    let next = fold.next;
    for (; next < fold.slices.length && (isCheckpoint || next <= height - fold.firstHeight); next++) {
      this.writeSlice(fold.slices[next]!, fold.checkpoint);
    }
    const old = this.checkpoint;
    if (isCheckpoint) {
      // Restarting now needs stateRecord (= state at `old` once the fold is done) and the deltas after it.
      for (const k of [...this.deltas.keys({ end: heightKey(old.height + 1) })]) this.deltas.delete(k);
      if (!this.options.archive) {
        const start = heightKey(old.height);
        const end = heightKey(old.height + 1);
        for (const k of [...this.undo.keys({ start, end })]) this.undo.delete(k);
      }
      this.meta.put(metaKey(META.previousCheckpoint), heightKey(old.height));
      this.meta.put(metaKey(META.previousCheckpointRoot), old.root);
      this.meta.put(metaKey(META.checkpoint), heightKey(height));
      this.meta.put(metaKey(META.checkpointRoot), root);
    }
    return () => {
      fold.next = next;
      this.applyChanges(changes);
      if (isCheckpoint) this.startInterval({ height, root: root.slice() }, old);
    };
  }

  /** Applies one committed (or replayed) block's changes to the index and the layer above the checkpoint. */
  applyChanges(changes: readonly Omit<BlockChange, 'stored'>[]): void {
    const { recent, recentBase } = this;
    for (const { key, value, base } of changes) {
      if (!recent.has(key)) recentBase.set(key, base);
      recent.set(key, value);
      this.track(key, value);
    }
  }

  /** Notes a record of the latest height in the index and, for a validator, among the validators. */
  track(key: string, value: string | null): void {
    if (value === null) {
      this.index.delete(key);
      this.validators.delete(key);
      return;
    }
    this.index.set(key, value);
    if (value[0] === VALIDATOR_CHAR)
      this.validators.set(key, bytesOf(value.slice(2, 2 + value.charCodeAt(1))));
  }

  /** The latest height became a checkpoint: the layer above the old one becomes the interval to fold. */
  startInterval(mark: CheckpointMark, previous: CheckpointMark): void {
    this.previous = previous;
    this.checkpoint = mark;
    this.interval = this.recent;
    this.intervalBase = this.recentBase;
    this.intervalSorted = undefined;
    this.recent = new Map();
    this.recentBase = new Map();
    this.planFold(this.interval.keys(), mark.height + 1);
  }

  /**
   * Spreads keys of the interval over the blocks before the next checkpoint (at least one slice; what is
   * left at the next checkpoint is written by it).
   */
  planFold(keys: Iterable<string>, firstHeight: number): void {
    const k = this.options.checkpointInterval;
    const nextCheckpoint = (Math.floor((firstHeight - 1) / k) + 1) * k;
    const slices = planSlices(keys, Math.max(1, nextCheckpoint - firstHeight));
    this.fold = { checkpoint: heightKey(this.checkpoint.height), slices, firstHeight, next: 0 };
  }

  /** Writes one slice of the interval to stateRecord, and the values it replaces as one undo value. */
  private writeSlice(slice: string[], checkpoint: Uint8Array): void {
    if (slice.length === 0) return;
    slice.sort();
    const undo: Change[] = [];
    const key = Buffer.alloc(32);
    for (const k of slice) {
      const v = this.interval.get(k)!;
      const base = this.intervalBase.get(k)!;
      // Created and deleted within the interval: nothing to write, nothing to undo.
      if (v === null && base === null) continue;
      key.write(k, 0, 'latin1');
      if (v === null) this.records.delete(key);
      else this.records.put(key, Buffer.from(v, 'latin1'));
      undo.push([k, base === null ? null : bytesOf(base)]);
    }
    if (undo.length > 0) this.undo.put(undoKey(checkpoint, undo[undo.length - 1]![0]), encodeChanges(undo));
  }
}
