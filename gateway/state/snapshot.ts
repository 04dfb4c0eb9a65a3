/**
 * State snapshots for bootstrap (docs/consensus.md §7): every record at a checkpoint height (the toHeight
 * of the latest or previous state block), in state-key order, in chunks of bounded size with a cursor.
 *
 * SnapshotChunk = [height uint, root bytes32, entries, next bytes32 | null]      (canonical CBOR)
 * entries       = [[namespace uint, id bytes, record bytes], ...]   strictly increasing by state key
 * `next` is the last state key of the chunk (the cursor to ask for the following chunk), null at the end.
 * An importer recomputes every key from (namespace, id), so a chunk cannot place a record under a key it
 * does not belong to, rebuilds the tree, and accepts the state only if its root is the expected one.
 */
import { equalBytes } from '../../core/bytes.js';
import { CborReader, CborWriter } from '../../core/cbor.js';
import type { Crypto } from '../../core/crypto.js';
import { type Genesis, genesisHash } from '../../core/genesis.js';
import type { Database } from '../db/interface.js';
import { bytesOf, latin1 } from '../util/latin1.js';
import type { LmdbChainState } from './chain-state.js';
import { StateError } from './errors.js';
import { createStateHasher, type StateHasher } from './hasher.js';
import { leafOf } from './load.js';
import { StateStore } from './store.js';
import { decodeStoredRecord, encodeStoredRecord, keyBytes, META, metaKey } from './store-format.js';
import { hashBytes, TrieBuilder } from './trie.js';

/**
 * The largest record a snapshot carries: core's records stay within MAX_RECORD_BYTES (1 KiB), but consensus
 * records are larger — a committee record of 1,024 members (~57 KiB), a DKG dealing (up to 30 KiB).
 */
export const MAX_SNAPSHOT_RECORD_BYTES = 64 * 1024;
export interface SnapshotEntry {
  readonly namespace: number;
  readonly id: Uint8Array;
  readonly record: Uint8Array;
}

export interface SnapshotChunk {
  readonly height: number;
  readonly root: Uint8Array;
  readonly entries: readonly SnapshotEntry[];
  readonly next: Uint8Array | null;
}

const MAX_CHUNK_ENTRIES = 1 << 20;

export function encodeSnapshotChunk(c: SnapshotChunk): Uint8Array {
  const w = new CborWriter(1024 + c.entries.length * 96);
  w.array(4).uint(c.height).bytes(c.root).array(c.entries.length);
  for (const e of c.entries) w.array(3).uint(e.namespace).bytes(e.id).bytes(e.record);
  if (c.next === null) w.null();
  else w.bytes(c.next);
  return w.finish();
}

export function decodeSnapshotChunk(bytes: Uint8Array): SnapshotChunk {
  const r = new CborReader(bytes);
  r.array('snapshot', 4);
  const height = r.uint('snapshot.height');
  const root = r.bytesField('snapshot.root', 32);
  const n = r.array('snapshot.entries', { max: MAX_CHUNK_ENTRIES });
  const entries: SnapshotEntry[] = [];
  for (let i = 0; i < n; i++) {
    r.array('snapshot.entry', 3);
    const namespace = r.uint('snapshot.entry.namespace', 255);
    const id = r.bytesField('snapshot.entry.id', { min: 1, max: 64 });
    const record = r.bytesField('snapshot.entry.record', { min: 1, max: MAX_SNAPSHOT_RECORD_BYTES });
    entries.push({ namespace, id, record });
  }
  const next = r.nullIf() ? null : r.bytesField('snapshot.next', 32);
  r.end('snapshot');
  return { height, root, entries, next };
}

/** One chunk of the snapshot at `height` (a retained checkpoint), after `cursor` (null: from the start). */
export function exportSnapshotChunk(
  state: LmdbChainState,
  height: number,
  cursor: Uint8Array | null,
  maxBytes: number = state.options.snapshotChunkBytes,
): SnapshotChunk {
  if (height !== state.checkpoint && height !== state.previousCheckpoint) {
    throw new StateError('STATE_HEIGHT_NOT_RETAINED', `no snapshot at height ${height}`, {
      height,
      checkpoints: [state.previousCheckpoint, state.checkpoint],
    });
  }
  const root = state.rootAt(height);
  const entries: SnapshotEntry[] = [];
  let size = 64;
  let last: string | null = null;
  let more = false;
  const which = height === state.checkpoint ? 'checkpoint' : 'previous';
  for (const [key, value] of state.store.recordsAt(which, cursor === null ? null : latin1(cursor))) {
    const { namespace, id, record } = decodeStoredRecord(value);
    const bytes = id.length + record.length + 8;
    if (entries.length > 0 && size + bytes > maxBytes) {
      more = true;
      break;
    }
    entries.push({ namespace, id: id.slice(), record: record.slice() });
    size += bytes;
    last = key;
  }
  return { height, root, entries, next: more ? bytesOf(last!) : null };
}

/**
 * Builds a state from snapshot chunks into an EMPTY database. Chunks arrive in order; finish() builds the
 * tree (streaming, bottom-up) and writes the records in one transaction only if the root matches, so a
 * refused snapshot leaves the database empty. Holds the records in memory until finish (~200 bytes per
 * record); opening the state afterwards builds the tree again from LMDB.
 */
export class SnapshotImporter {
  private readonly entries: [string, Uint8Array][] = [];
  private last: string | null = null;
  private done = false;
  private readonly hasher: StateHasher;

  constructor(
    private readonly deps: { db: Database; crypto: Crypto; genesis: Genesis },
    readonly height: number,
    readonly expectedRoot: Uint8Array,
  ) {
    const meta = deps.db.bucket('meta');
    if (meta.has(metaKey(META.checkpoint)) || meta.has(metaKey(META.genesis))) {
      throw new StateError('SNAPSHOT_TARGET_NOT_EMPTY', 'import needs an empty state database');
    }
    this.hasher = createStateHasher(deps.crypto);
  }

  add(chunk: SnapshotChunk): void {
    const invalid = (reason: string) => {
      throw new StateError('SNAPSHOT_INVALID', `snapshot chunk: ${reason}`);
    };
    if (this.done) invalid('after the last chunk');
    if (chunk.height !== this.height || !equalBytes(chunk.root, this.expectedRoot)) {
      invalid('for another height or root');
    }
    for (const e of chunk.entries) {
      const key = this.hasher.stateKey(e.namespace, e.id);
      if (this.last !== null && key <= this.last) invalid('keys not strictly increasing');
      this.last = key;
      this.entries.push([key, encodeStoredRecord(e)]);
    }
    if (chunk.next === null) this.done = true;
    else if (this.last === null || latin1(chunk.next) !== this.last) invalid('cursor is not its last key');
  }

  /** Verifies the root and writes the state; throws SNAPSHOT_ROOT_MISMATCH (nothing written) otherwise. */
  finish(): void {
    if (!this.done) throw new StateError('SNAPSHOT_INVALID', 'snapshot incomplete');
    const { db, crypto, genesis } = this.deps;
    const builder = new TrieBuilder(this.hasher).reset(0);
    for (const [key, stored] of this.entries) builder.add(leafOf(this.hasher, key, stored));
    if (!equalBytes(hashBytes(builder.finish()), this.expectedRoot)) {
      throw new StateError('SNAPSHOT_ROOT_MISMATCH', 'snapshot records do not hash to the expected root', {
        height: this.height,
      });
    }
    const store = new StateStore(db, { archive: false, checkpointInterval: 1 });
    db.transaction(() => {
      store.writeInitial(
        this.entries.map(([k, v]) => [keyBytes(k), v] as const),
        { height: this.height, root: this.expectedRoot.slice() },
      );
      store.meta.put(metaKey(META.genesis), genesisHash(crypto, genesis));
    });
  }
}
