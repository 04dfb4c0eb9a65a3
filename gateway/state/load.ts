/**
 * Opening a state directory: the trees are not stored, so they are rebuilt here from the records
 * (store.ts says what is where). stateRecord overlaid with the undo slices of the checkpoint C is the state
 * at the previous checkpoint Cp: one streaming bottom-up build gives Cp's tree, whose root must equal the
 * stored one; the deltas of (Cp, C] replayed on it give C's tree (root checked again), and the deltas after
 * C the latest one, each block's root checked as it is replayed. Without a Cp (genesis, or a store filled
 * from a snapshot) the build gives C's tree directly.
 */
import { equalBytes } from '../../core/bytes.js';
import { heightKey, readU64 } from '../db/namespaces.js';
import { latin1 } from '../util/latin1.js';
import { StateError } from './errors.js';
import type { StateHasher } from './hasher.js';
import type { StateStore } from './store.js';
import {
  decodeChanges,
  decodeDelta,
  type KeyOfStored,
  META,
  metaKey,
  recordOf,
  STORE_FORMAT,
} from './store-format.js';
import {
  hashBytes,
  sortUpdates,
  TrieBuilder,
  type TrieLeaf,
  type TrieRoot,
  type TrieUpdater,
  trieLeaf,
} from './trie.js';

export interface LoadedTrees {
  readonly latest: number;
  readonly latestRoot: TrieRoot;
  readonly checkpointRoot: TrieRoot;
  /** Undefined when there is no previous checkpoint. */
  readonly previousRoot: TrieRoot | undefined;
}

function corrupt(message: string, data: Record<string, unknown> = {}): StateError {
  return new StateError('STATE_CORRUPT', message, data);
}

/** A leaf of a stored record (the leaf keeps `value`, the same record as latin1). */
export function leafOf(
  hasher: StateHasher,
  key: string,
  stored: Uint8Array,
  value = latin1(stored),
): TrieLeaf {
  return trieLeaf(key, value, hasher.stateValue(recordOf(stored)), hasher);
}

/** The tree of stateRecord overlaid with `over` (null: absent), built while the records stream in. */
function buildBase(store: StateStore, hasher: StateHasher, over: Map<string, Uint8Array | null>): TrieRoot {
  const builder = new TrieBuilder(hasher).reset(0);
  const add = (key: string, stored: Uint8Array | null | undefined) => {
    if (stored == null) return;
    const leaf = leafOf(hasher, key, stored);
    builder.add(leaf);
    store.track(key, leaf.value);
  };
  const keys = [...over.keys()].sort();
  let i = 0;
  for (const [kb, value] of store.records.range()) {
    const key = latin1(kb);
    for (; i < keys.length && keys[i]! < key; i++) add(keys[i]!, over.get(keys[i]!));
    if (i < keys.length && keys[i] === key) add(key, over.get(keys[i++]!));
    else add(key, value);
  }
  for (; i < keys.length; i++) add(keys[i]!, over.get(keys[i]!));
  return builder.finish();
}

/** Replays the deltas of (from, to] (to: undefined = all) onto root; calls onBlock with each block's changes. */
function replay(
  store: StateStore,
  hasher: StateHasher,
  updater: TrieUpdater,
  root: TrieRoot,
  from: number,
  to: number | undefined,
  onBlock: (changes: readonly { key: string; value: string | null }[]) => void,
): { root: TrieRoot; height: number } {
  let height = from;
  const end = to === undefined ? undefined : heightKey(to + 1);
  const keyOf: KeyOfStored = (namespace, id) => hasher.stateKey(namespace, id);
  for (const [k, value] of store.deltas.range({ start: heightKey(from + 1), ...(end ? { end } : {}) })) {
    const h = readU64(k);
    if (h !== height + 1) throw corrupt(`state delta gap at ${h}`, { height: h });
    const delta = decodeDelta(value, keyOf);
    const updates = delta.changes.map(([key, stored]) => ({
      key,
      value: stored === null ? null : latin1(stored),
      valueHash: stored === null ? null : hasher.stateValue(recordOf(stored)),
    }));
    root = updater.apply(root, sortUpdates(updates));
    if (!equalBytes(hashBytes(root), delta.root)) {
      throw corrupt(`replayed root differs at height ${h}`, { height: h });
    }
    onBlock(updates);
    height = h;
  }
  if (to !== undefined && height !== to) throw corrupt(`state deltas end at ${height}, not ${to}`);
  return { root, height };
}

export function loadTrees(store: StateStore, hasher: StateHasher, updater: TrieUpdater): LoadedTrees {
  const checkpoint = store.readMetaHeight(META.checkpoint);
  if (checkpoint === undefined) throw corrupt('no checkpoint');
  const checkpointRoot = store.meta.get(metaKey(META.checkpointRoot));
  // Directories of builds that persisted tree nodes have no root mark; they must be re-synced.
  if (checkpointRoot === undefined) throw corrupt('no checkpoint root: directory written by an older build');
  const format = store.readMetaHeight(META.format);
  if (format !== STORE_FORMAT) {
    throw corrupt(`state format ${format ?? 1}, this build reads ${STORE_FORMAT}: re-sync the directory`, {
      format: format ?? 1,
    });
  }
  store.checkpoint = { height: checkpoint, root: checkpointRoot };
  const previous = store.readMetaHeight(META.previousCheckpoint);
  const previousRoot = store.meta.get(metaKey(META.previousCheckpointRoot));
  if ((previous === undefined) !== (previousRoot === undefined))
    throw corrupt('previous checkpoint half-written');
  store.previous = previous === undefined ? undefined : { height: previous, root: previousRoot! };

  const undone = new Map<string, Uint8Array | null>();
  for (const [, v] of store.undo.range({ start: heightKey(checkpoint), end: heightKey(checkpoint + 1) })) {
    for (const [k, old] of decodeChanges(v, (namespace, id) => hasher.stateKey(namespace, id))) {
      undone.set(k, old);
    }
  }
  if (previous === undefined && undone.size > 0) throw corrupt('undo records without a previous checkpoint');

  const base = buildBase(store, hasher, undone);
  const expected = previous === undefined ? checkpointRoot : previousRoot!;
  if (!equalBytes(hashBytes(base), expected)) {
    throw corrupt(`rebuilt root differs at height ${previous ?? checkpoint}`, {
      height: previous ?? checkpoint,
    });
  }
  let atCheckpoint = base;
  if (previous !== undefined) {
    const { interval, intervalBase, index } = store;
    atCheckpoint = replay(store, hasher, updater, base, previous, checkpoint, (changes) => {
      for (const { key, value } of changes) {
        if (!interval.has(key)) intervalBase.set(key, index.get(key) ?? null);
        interval.set(key, value);
        store.track(key, value);
      }
    }).root;
  }
  const last = replay(store, hasher, updater, atCheckpoint, checkpoint, undefined, (changes) =>
    store.applyChanges(changes.map((c) => ({ ...c, base: store.index.get(c.key) ?? null }))),
  );
  // Slices already folded left their undo value; the rest is spread over the blocks to come.
  store.planFold(
    [...store.interval.keys()].filter((k) => !undone.has(k)),
    last.height + 1,
  );
  return {
    latest: last.height,
    latestRoot: last.root,
    checkpointRoot: atCheckpoint,
    previousRoot: previous === undefined ? undefined : base,
  };
}
