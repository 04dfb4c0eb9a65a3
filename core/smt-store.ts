/**
 * The versioned sparse Merkle tree that gateways keep (hashing and proof rules: smt.ts). Like Jellyfish
 * Merkle Tree, nodes are immutable and stored under NodeKey = (version that wrote the node, path prefix);
 * a batch writes new nodes only along the paths it touches, and every earlier root stays readable until
 * its nodes are pruned.
 *
 * Pruning: applyBatch reports the node keys that its new version no longer references ("stale at v").
 * Versions form one line (each batch's base is the latest version), so a node stale at v belongs only to
 * roots older than v, and a store may delete it once no root at a version < v is needed. The root of
 * version v is always written at (v, empty path); an empty tree writes an explicit `empty` marker there.
 */
import { abytes, auint, compareBytes, equalBytes } from './bytes.js';
import type { Crypto } from './crypto.js';
import { ArgumentError, IosnetError } from './errors.js';
import {
  decodeNodeKey,
  encodeNodeKey,
  packSmtProof,
  SMT_KEY_SIZE,
  type SmtChild,
  type SmtLeaf,
  type SmtNode,
  type SmtProof,
  smtLeafHash,
  smtNodeHash,
  ZERO_HASH,
} from './smt.js';

export type SmtStoreErrorCode = 'SMT_NODE_MISSING' | 'SMT_NODE_CORRUPT' | 'SMT_VERSION_EXISTS';

/** The store does not hold what the tree needs: a pruned version, or a damaged database. */
export class SmtStoreError extends IosnetError<SmtStoreErrorCode> {}

/** Synchronous on purpose: LMDB's getSync is ~400k/s on our gateways, and sync keeps the tree simple. */
export interface SmtNodeStore {
  getNode(key: Uint8Array): SmtNode | undefined;
}

export interface SmtBatchResult {
  readonly root: Uint8Array;
  /** Nodes to write, in the same DB transaction as the block. Keys and leaf fields may be views into a
   * shared buffer: copy by byteOffset/byteLength, never through `.buffer` alone. */
  readonly newNodes: [Uint8Array, SmtNode][];
  /** Node keys the new version no longer references: record them as stale at the new version. */
  readonly staleNodes: Uint8Array[];
}

/** In-memory store for tests and benchmarks. */
export class MemorySmtStore implements SmtNodeStore {
  private readonly nodes = new Map<string, SmtNode>();
  private readonly staleAt = new Map<number, Uint8Array[]>();

  getNode(key: Uint8Array): SmtNode | undefined {
    return this.nodes.get(mapKey(key));
  }

  putNode(key: Uint8Array, node: SmtNode): void {
    this.nodes.set(mapKey(key), node);
  }

  deleteNode(key: Uint8Array): boolean {
    return this.nodes.delete(mapKey(key));
  }

  get size(): number {
    return this.nodes.size;
  }

  /** Writes a batch and records its stale keys, as a gateway does inside the block's DB transaction. */
  commit(version: number, result: SmtBatchResult): void {
    for (const [key, node] of result.newNodes) this.putNode(key, node);
    const list = this.staleAt.get(version) ?? [];
    for (const key of result.staleNodes) list.push(key);
    this.staleAt.set(version, list);
  }

  /** Deletes the nodes stale at a version <= `version`; roots below `version` stop being readable. */
  prune(version: number): number {
    let deleted = 0;
    for (const [v, keys] of this.staleAt) {
      if (v > version) continue;
      for (const key of keys) if (this.deleteNode(key)) deleted++;
      this.staleAt.delete(v);
    }
    return deleted;
  }
}

// One char per byte: at 2.4M nodes, gets are 4x faster than with a spread or hex key (measured).
function mapKey(key: Uint8Array): string {
  return String.fromCharCode.apply(null, key as unknown as number[]);
}

interface Entry {
  /** Always false: shares the discriminant with LeafSub so that build() tells them apart cheaply. */
  readonly leaf: false;
  readonly key: Uint8Array;
  readonly valueHash: Uint8Array | null;
  /** The key's first 4 bytes as a number: most comparisons end there (sorting 1M keys, profiled). */
  readonly head: number;
}

/** A subtree while a batch is built. A leaf's place is decided by its parent, so leaves travel unplaced. */
type Sub = LeafSub | NodeSub | null;

interface LeafSub {
  readonly leaf: true;
  readonly hash: Uint8Array;
  /** Undefined until loaded, for a leaf that has been referenced but not read yet. */
  key: Uint8Array | undefined;
  valueHash: Uint8Array | undefined;
  /** Where the leaf is stored now, if it already exists unchanged. */
  readonly storedKey: Uint8Array | undefined;
  readonly storedVersion: number;
  readonly storedDepth: number;
}

interface NodeSub {
  readonly leaf: false;
  readonly hash: Uint8Array;
  readonly version: number;
  node: Extract<SmtNode, { kind: 'internal' }> | undefined;
}

const EMPTY_NODE: SmtNode = /* @__PURE__ */ Object.freeze({ kind: 'empty' });
const ROOT_PATH = /* @__PURE__ */ new Uint8Array(0);

function leafSub(
  hash: Uint8Array,
  key: Uint8Array | undefined,
  valueHash: Uint8Array | undefined,
  storedKey?: Uint8Array,
  storedVersion = 0,
  storedDepth = -1,
): LeafSub {
  return { leaf: true, hash, key, valueHash, storedKey, storedVersion, storedDepth };
}

/** First index in [lo, hi) whose key has bit d set; keys are sorted and share their first d bits. */
function split(items: readonly { key: Uint8Array | undefined }[], lo: number, hi: number, d: number): number {
  const byte = d >> 3;
  const mask = 0x80 >> (d & 7);
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.key![byte]! & mask) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** A copy of `path` whose bit d is `bit` (bits after d are irrelevant: node keys mask them). */
function withBit(path: Uint8Array, d: number, bit: number): Uint8Array {
  const out = path.slice();
  const mask = 0x80 >> (d & 7);
  out[d >> 3] = bit ? out[d >> 3]! | mask : out[d >> 3]! & ~mask;
  return out;
}

/**
 * Hands out small byte arrays as views of 64 KiB chunks. A standalone 32-byte Uint8Array takes ~230 heap
 * bytes in V8, a view of a shared buffer ~100 (measured); garbage collection of what a batch keeps was
 * about 40% of a 1M-key build (profiled).
 */
class ByteArena {
  private chunk = new Uint8Array(0);
  private used = 0;

  take(n: number): Uint8Array {
    if (this.used + n > this.chunk.length) {
      this.chunk = new Uint8Array(Math.max(n, 65536));
      this.used = 0;
    }
    this.used += n;
    // The constructor, not subarray(): subarray's species lookup costs twice as much (measured).
    return new Uint8Array(this.chunk.buffer, this.used - n, n);
  }

  copy(bytes: Uint8Array): Uint8Array {
    const out = this.take(bytes.length);
    out.set(bytes);
    return out;
  }

  nodeKey(version: number, path: Uint8Array, depth: number): Uint8Array {
    return encodeNodeKey(version, path, depth, this.take(10 + ((depth + 7) >> 3)));
  }
}

function sameChild(sub: Sub, child: SmtChild | null): boolean {
  return sub === null ? child === null : child !== null && equalBytes(sub.hash, child.hash);
}

/** One applyBatch: collects the nodes to write and the keys that go stale. */
class BatchBuilder {
  readonly newNodes: [Uint8Array, SmtNode][] = [];
  readonly staleNodes: Uint8Array[] = [];
  readonly arena = new ByteArena();

  constructor(
    private readonly store: SmtNodeStore,
    private readonly crypto: Crypto,
    private readonly version: number,
    /** Retired once at the end: every version writes its own root. */
    private readonly baseRootKey: Uint8Array | undefined,
  ) {}

  private retire(key: Uint8Array): void {
    if (key !== this.baseRootKey) this.staleNodes.push(key);
  }

  load(key: Uint8Array): SmtNode {
    return loadNode(this.store, key);
  }

  loadLeaf(sub: LeafSub): void {
    if (sub.key !== undefined) return;
    const node = this.load(sub.storedKey!);
    if (node.kind !== 'leaf') throw storeError('SMT_NODE_CORRUPT', sub.storedKey!, 'expected a leaf');
    sub.key = node.key;
    sub.valueHash = node.valueHash;
  }

  /** Applies entries[lo, hi) (sorted, sharing the first d bits) to the existing subtree `s` at depth d. */
  update(s: Sub, entries: readonly Entry[], lo: number, hi: number, d: number): Sub {
    if (lo === hi) return s;
    if (s === null) {
      let deletes = false;
      for (let i = lo; i < hi && !deletes; i++) deletes = entries[i]!.valueHash === null;
      if (!deletes) return this.build(entries, lo, hi, d);
      const inserts = entries.slice(lo, hi).filter((e) => e.valueHash !== null);
      return this.build(inserts, 0, inserts.length, d);
    }
    if (s.leaf) return this.mergeLeaf(s, entries, lo, hi, d);
    const path = entries[lo]!.key;
    if (s.node === undefined) {
      const key = encodeNodeKey(s.version, path, d);
      const node = this.load(key);
      if (node.kind !== 'internal') throw storeError('SMT_NODE_CORRUPT', key, 'expected an internal node');
      s.node = node;
    }
    const { left, right } = s.node;
    const mid = split(entries, lo, hi, d);
    const l = this.update(this.childSub(left, path, d, 0), entries, lo, mid, d + 1);
    const r = this.update(this.childSub(right, path, d, 1), entries, mid, hi, d + 1);
    if (sameChild(l, left) && sameChild(r, right)) return s;
    if (d > 0) this.retire(encodeNodeKey(s.version, path, d));
    return this.combine(l, r, path, d);
  }

  private childSub(child: SmtChild | null, path: Uint8Array, d: number, bit: number): Sub {
    if (child === null) return null;
    if (!child.leaf) return { leaf: false, hash: child.hash, version: child.version, node: undefined };
    const storedKey = encodeNodeKey(child.version, withBit(path, d, bit), d + 1);
    return leafSub(child.hash, undefined, undefined, storedKey, child.version, d + 1);
  }

  /** An existing leaf meets updates under its prefix: rebuild that subtree from the merged list. */
  private mergeLeaf(s: LeafSub, entries: readonly Entry[], lo: number, hi: number, d: number): Sub {
    this.loadLeaf(s);
    const merged: (Entry | LeafSub)[] = [];
    let placed = false;
    for (let i = lo; i < hi; i++) {
      const e = entries[i]!;
      const order = placed ? 1 : compareBytes(e.key, s.key!);
      if (order > 0 && !placed) {
        merged.push(s);
        placed = true;
      }
      if (order === 0) {
        placed = true;
        if (e.valueHash !== null && equalBytes(e.valueHash, s.valueHash!)) {
          merged.push(s);
          continue;
        }
        if (s.storedKey) this.retire(s.storedKey);
      }
      if (e.valueHash !== null) merged.push(e);
    }
    if (!placed) merged.push(s);
    return this.build(merged, 0, merged.length, d);
  }

  /**
   * Bottom-up build of a subtree from sorted leaves that share their first d bits (deletes filtered out).
   * A new leaf becomes a LeafSub only here, so it dies young instead of living through the whole build.
   */
  build(leaves: readonly (Entry | LeafSub)[], lo: number, hi: number, d: number): Sub {
    if (hi - lo <= 1) {
      if (hi === lo) return null;
      const x = leaves[lo]!;
      return x.leaf ? x : leafSub(smtLeafHash(this.crypto, x.key, x.valueHash!), x.key, x.valueHash!);
    }
    const mid = split(leaves, lo, hi, d);
    const l = this.build(leaves, lo, mid, d + 1);
    const r = this.build(leaves, mid, hi, d + 1);
    return this.combine(l, r, leaves[lo]!.key!, d);
  }

  /** Joins two subtrees at depth d under the compact rule; writes the node unless it is the root. */
  private combine(l: Sub, r: Sub, path: Uint8Array, d: number): Sub {
    if (l === null && (r === null || r.leaf)) return r;
    if (r === null && l!.leaf) return l;
    const node: SmtNode = { kind: 'internal', left: this.place(l, d + 1), right: this.place(r, d + 1) };
    const hash = smtNodeHash(this.crypto, l?.hash ?? ZERO_HASH, r?.hash ?? ZERO_HASH);
    if (d > 0) this.newNodes.push([this.arena.nodeKey(this.version, path, d), node]);
    return { leaf: false, hash, version: this.version, node };
  }

  /** A child reference for a subtree placed at `depth`; writes a leaf that is new or has moved. */
  place(sub: Sub, depth: number): SmtChild | null {
    if (sub === null) return null;
    if (!sub.leaf) return { hash: sub.hash, version: sub.version, leaf: false };
    if (sub.storedKey !== undefined && sub.storedDepth === depth) {
      return { hash: sub.hash, version: sub.storedVersion, leaf: true };
    }
    this.loadLeaf(sub);
    if (sub.storedKey !== undefined) this.retire(sub.storedKey);
    const node: SmtNode = { kind: 'leaf', key: sub.key!, valueHash: sub.valueHash! };
    this.newNodes.push([this.arena.nodeKey(this.version, sub.key!, depth), node]);
    return { hash: sub.hash, version: this.version, leaf: true };
  }
}

function storeError(code: SmtStoreErrorCode, key: Uint8Array, what: string): SmtStoreError {
  const { version, depth } = decodeNodeKey(key);
  return new SmtStoreError(code, `smt: ${what} at version ${version}, depth ${depth}`, { version, depth });
}

function loadNode(store: SmtNodeStore, key: Uint8Array): SmtNode {
  const node = store.getNode(key);
  if (node === undefined) throw storeError('SMT_NODE_MISSING', key, 'no node');
  return node;
}

function rootHash(crypto: Crypto, node: SmtNode): Uint8Array {
  if (node.kind === 'empty') return ZERO_HASH.slice();
  if (node.kind === 'leaf') return smtLeafHash(crypto, node.key, node.valueHash);
  return smtNodeHash(crypto, node.left?.hash ?? ZERO_HASH, node.right?.hash ?? ZERO_HASH);
}

function compareKeys(a: Entry, b: Entry): number {
  if (a.head !== b.head) return a.head - b.head;
  const x = a.key;
  const y = b.key;
  for (let i = 4; i < SMT_KEY_SIZE; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return 0;
}

function sortEntries(updates: Iterable<readonly [Uint8Array, Uint8Array | null]>, arena: ByteArena): Entry[] {
  const entries: Entry[] = [];
  let i = 0;
  for (const [key, valueHash] of updates) {
    // Checked inline: building the argument name for every update was a visible cost at 1M updates.
    if (!(key instanceof Uint8Array) || key.length !== SMT_KEY_SIZE) abytes(key, `updates[${i}].key`, 32);
    if (valueHash !== null && (!(valueHash instanceof Uint8Array) || valueHash.length !== 32)) {
      abytes(valueHash, `updates[${i}].valueHash`, 32);
    }
    // Copies: stored nodes are immutable even if the caller reuses its buffers.
    const head = key[0]! * 0x1000000 + ((key[1]! << 16) | (key[2]! << 8) | key[3]!);
    entries.push({
      leaf: false,
      key: arena.copy(key),
      valueHash: valueHash === null ? null : arena.copy(valueHash),
      head,
    });
    i++;
  }
  // Stable sort, then keep the last update of each key (a later write in the batch wins). Input in key
  // order (a snapshot being loaded) skips the sort.
  let ordered = true;
  for (let j = 1; j < entries.length && ordered; j++)
    ordered = compareKeys(entries[j - 1]!, entries[j]!) <= 0;
  if (!ordered) entries.sort(compareKeys);
  let n = 0;
  for (let j = 0; j < entries.length; j++) {
    if (j + 1 < entries.length && compareKeys(entries[j]!, entries[j + 1]!) === 0) continue;
    entries[n++] = entries[j]!;
  }
  entries.length = n;
  return entries;
}

export class SparseMerkleTree {
  constructor(
    private readonly store: SmtNodeStore,
    private readonly crypto: Crypto,
  ) {}

  private rootNode(version: number): SmtNode {
    return loadNode(this.store, encodeNodeKey(auint(version, 'version'), ROOT_PATH, 0));
  }

  root(version: number): Uint8Array {
    return rootHash(this.crypto, this.rootNode(version));
  }

  /** Follows key's path; calls onSibling top-down; returns the terminal leaf or null (empty subtree). */
  private walk(version: number, key: Uint8Array, onSibling?: (hash: Uint8Array) => void): SmtLeaf | null {
    abytes(key, 'key', SMT_KEY_SIZE);
    let node = this.rootNode(version);
    for (let d = 0; ; d++) {
      if (node.kind === 'empty') return null;
      if (node.kind === 'leaf') return node;
      const bit = (key[d >> 3]! >> (7 - (d & 7))) & 1;
      const child = bit ? node.right : node.left;
      onSibling?.((bit ? node.left : node.right)?.hash ?? ZERO_HASH);
      if (child === null) return null;
      node = loadNode(this.store, encodeNodeKey(child.version, key, d + 1));
    }
  }

  get(version: number, key: Uint8Array): Uint8Array | undefined {
    const leaf = this.walk(version, key);
    return leaf !== null && equalBytes(leaf.key, key) ? leaf.valueHash : undefined;
  }

  prove(version: number, key: Uint8Array): SmtProof {
    const siblings: Uint8Array[] = [];
    const leaf = this.walk(version, key, (h) => siblings.push(h));
    return packSmtProof(siblings, leaf === null ? null : { key: leaf.key, valueHash: leaf.valueHash });
  }

  /** Every leaf of a version in key order (validators bootstrap from a snapshot built from this). */
  *leaves(version: number): Generator<SmtLeaf> {
    const stack: [SmtNode, Uint8Array, number][] = [[this.rootNode(version), new Uint8Array(32), 0]];
    while (stack.length > 0) {
      const [node, path, d] = stack.pop()!;
      if (node.kind === 'leaf') yield { key: node.key, valueHash: node.valueHash };
      if (node.kind !== 'internal') continue;
      // Right first so the left subtree (bit 0: smaller keys) comes off the stack first.
      for (const [child, bit] of [[node.right, 1] as const, [node.left, 0] as const]) {
        if (child === null) continue;
        const childPath = withBit(path, d, bit);
        stack.push([loadNode(this.store, encodeNodeKey(child.version, childPath, d + 1)), childPath, d + 1]);
      }
    }
  }

  /**
   * Applies updates (valueHash null deletes) to baseVersion's tree (null: the empty tree) as newVersion.
   * Writes nothing: the caller stores newNodes and records staleNodes with the block, so a batch is all
   * or nothing. Only nodes on touched paths are rewritten; a batch onto an empty tree is one sorted
   * bottom-up build. The last update of a key in a batch wins.
   */
  applyBatch(
    baseVersion: number | null,
    newVersion: number,
    updates: Iterable<readonly [Uint8Array, Uint8Array | null]>,
  ): SmtBatchResult {
    auint(newVersion, 'newVersion');
    if (baseVersion !== null && auint(baseVersion, 'baseVersion') >= newVersion) {
      throw new ArgumentError('newVersion', `must be above baseVersion ${baseVersion}`);
    }
    const newRootKey = encodeNodeKey(newVersion, ROOT_PATH, 0);
    if (this.store.getNode(newRootKey) !== undefined) {
      throw new SmtStoreError('SMT_VERSION_EXISTS', `smt: version ${newVersion} is already stored`, {
        version: newVersion,
      });
    }
    let base: Sub = null;
    let baseRootKey: Uint8Array | undefined;
    if (baseVersion !== null) {
      baseRootKey = encodeNodeKey(baseVersion, ROOT_PATH, 0);
      const node = loadNode(this.store, baseRootKey);
      const hash = rootHash(this.crypto, node);
      if (node.kind === 'internal') base = { leaf: false, hash, version: baseVersion, node };
      if (node.kind === 'leaf') base = leafSub(hash, node.key, node.valueHash, baseRootKey, baseVersion, 0);
    }
    const b = new BatchBuilder(this.store, this.crypto, newVersion, baseRootKey);
    const entries = sortEntries(updates, b.arena);
    const top = b.update(base, entries, 0, entries.length, 0);
    let rootNode: SmtNode = EMPTY_NODE;
    if (top?.leaf) {
      b.loadLeaf(top);
      if (top.storedKey !== undefined && top.storedKey !== baseRootKey) b.staleNodes.push(top.storedKey);
      rootNode = { kind: 'leaf', key: top.key!, valueHash: top.valueHash! };
    } else if (top !== null) {
      rootNode = top.node!;
    }
    b.newNodes.push([newRootKey, rootNode]);
    if (baseRootKey !== undefined) b.staleNodes.push(baseRootKey);
    return { root: top?.hash ?? ZERO_HASH.slice(), newNodes: b.newNodes, staleNodes: b.staleNodes };
  }
}
