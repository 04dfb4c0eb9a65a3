/**
 * The state tree in memory: a persistent (immutable, structurally shared) binary trie with the hashing and
 * compact rule of docs/protocol.md §9 (a subtree holding one leaf is that leaf), so its roots and proofs
 * are exactly those of core's SparseMerkleTree (core/smt-store.ts, the reference implementation).
 *
 * A node is never changed: a batch builds new nodes along the paths it touches and shares every other
 * subtree with its base, so several candidate blocks on one parent each get their own root without copies,
 * and a version nobody references any more is garbage-collected. Depth is implicit (a branch's split bit
 * is its distance from the root; branches never move, only leaves do) and hashes are cached in the nodes.
 *
 * A hash is held as eight int32 fields of its node (h0..h7, the words an Int32Array reads from its bytes),
 * not as a string or Uint8Array of its own: one object per branch instead of two halves what the garbage
 * collector copies and marks, and the tree's objects survive every block they are built in (a block of
 * 1,000 transfers among 100,000 accounts creates ~18,000 branches). Words also go into the hash input as
 * eight int32 stores. On Node's 64-bit V8 (no pointer compression) a branch takes 104 heap bytes, a leaf
 * 104 plus its key (a 48-byte string) and its stored record (an account: an 80-byte string); n random keys
 * make ~1.44 n branches (n - 1 with two children, the rest single-child branches on shared prefixes).
 */
import { packSmtProof, type SmtProof, ZERO_HASH } from '../../core/smt.js';
import type { StateHasher } from './hasher.js';

const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Word i of a 32-char latin1 hash: what an Int32Array reads from bytes 4i..4i+3 on this platform. */
const word: (s: string, i: number) => number = LITTLE_ENDIAN
  ? (s, i) =>
      s.charCodeAt(4 * i) |
      (s.charCodeAt(4 * i + 1) << 8) |
      (s.charCodeAt(4 * i + 2) << 16) |
      (s.charCodeAt(4 * i + 3) << 24)
  : (s, i) =>
      (s.charCodeAt(4 * i) << 24) |
      (s.charCodeAt(4 * i + 1) << 16) |
      (s.charCodeAt(4 * i + 2) << 8) |
      s.charCodeAt(4 * i + 3);

/**
 * A branch. Nodes are object literals made in one place each (branchOf, leafOf), not class instances:
 * V8 tracks literal allocation sites and, seeing that their objects survive, allocates them directly in
 * the old generation; class instances are copied by every young-generation collection they survive.
 * Measured on objects shaped like these that live for a few rounds: 0.4 s of GC against 3.7 s.
 */
export interface TrieBranch {
  /** Absent: tells a branch from a leaf. */
  readonly key?: undefined;
  readonly left: TrieNode | null;
  readonly right: TrieNode | null;
  readonly h0: number;
  readonly h1: number;
  readonly h2: number;
  readonly h3: number;
  readonly h4: number;
  readonly h5: number;
  readonly h6: number;
  readonly h7: number;
}

export interface TrieLeaf {
  readonly key: string;
  /** Opaque to the tree: the state keeps the whole stored record here (latin1), so reads need no LMDB. */
  readonly value: string;
  readonly h0: number;
  readonly h1: number;
  readonly h2: number;
  readonly h3: number;
  readonly h4: number;
  readonly h5: number;
  readonly h6: number;
  readonly h7: number;
}

function branchOf(left: TrieNode | null, right: TrieNode | null, hash: string): TrieBranch {
  return {
    left,
    right,
    h0: word(hash, 0),
    h1: word(hash, 1),
    h2: word(hash, 2),
    h3: word(hash, 3),
    h4: word(hash, 4),
    h5: word(hash, 5),
    h6: word(hash, 6),
    h7: word(hash, 7),
  };
}

/** A leaf of key (32-char latin1) holding value, whose value hash is `valueHash` (32-char latin1). */
export function trieLeaf(key: string, value: string, valueHash: string, hasher: StateHasher): TrieLeaf {
  const { bytes } = hasher.leaf;
  for (let i = 0; i < 32; i++) bytes[i] = key.charCodeAt(i);
  for (let i = 0; i < 32; i++) bytes[32 + i] = valueHash.charCodeAt(i);
  const hash = hasher.leaf.digest();
  return {
    key,
    value,
    h0: word(hash, 0),
    h1: word(hash, 1),
    h2: word(hash, 2),
    h3: word(hash, 3),
    h4: word(hash, 4),
    h5: word(hash, 5),
    h6: word(hash, 6),
    h7: word(hash, 7),
  };
}

export type TrieNode = TrieLeaf | TrieBranch;
/** A version of the tree: its root node, null for the empty tree. */
export type TrieRoot = TrieNode | null;

/** One change of a batch: value (and valueHash) null deletes the key. */
export interface TrieUpdate {
  readonly key: string;
  readonly value: string | null;
  readonly valueHash: string | null;
}

/** Writes a node's hash (zeros for an empty subtree) as 8 words at words[at]. */
function putHash(words: Int32Array, at: number, n: TrieNode | null): void {
  if (n === null) {
    words.fill(0, at, at + 8);
    return;
  }
  words[at] = n.h0;
  words[at + 1] = n.h1;
  words[at + 2] = n.h2;
  words[at + 3] = n.h3;
  words[at + 4] = n.h4;
  words[at + 5] = n.h5;
  words[at + 6] = n.h6;
  words[at + 7] = n.h7;
}

/** The branch over left and right (at least one of them non-null), its hash computed with `hasher`. */
function branch(hasher: StateHasher, left: TrieNode | null, right: TrieNode | null): TrieBranch {
  const { words } = hasher.node;
  putHash(words, 0, left);
  putHash(words, 8, right);
  return branchOf(left, right, hasher.node.digest());
}

const scratch = new Int32Array(8);
const scratchBytes = new Uint8Array(scratch.buffer);

/** A node's hash as 32 bytes (a fresh array); ZERO_HASH's bytes for the empty tree. */
export function hashBytes(n: TrieNode | null): Uint8Array {
  putHash(scratch, 0, n);
  return scratchBytes.slice();
}

/** The root hash of a version as a 32-char latin1 string (compares with === against hasher outputs). */
export function trieRootHash(root: TrieRoot): string {
  putHash(scratch, 0, root);
  return String.fromCharCode.apply(null, scratchBytes as unknown as number[]);
}

function keyBytes(key: string): Uint8Array {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
}

/** Bit d of a key, most significant bit of byte 0 first (0 = left). */
function bit(key: string, d: number): number {
  return (key.charCodeAt(d >> 3) >> (7 - (d & 7))) & 1;
}

/** Index of the first bit where two distinct keys differ. */
function firstDifference(a: string, b: string): number {
  for (let i = 0; i < a.length; i++) {
    const x = a.charCodeAt(i) ^ b.charCodeAt(i);
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return a.length * 8;
}

/** Split depth of a leaf: none, it can sit at any depth. */
const FLOATS = 1 << 20;

/**
 * Bottom-up build of a subtree from leaves given in strictly increasing key order, all sharing their first
 * `depth` bits. Streaming (O(256) memory besides the nodes), so a 1M-record store is built while it is read:
 * the branch where two consecutive keys first differ closes every pending left subtree below it, like a
 * Cartesian tree over those split depths. Single-child branches are added where a subtree's keys all share
 * the next bits (`wrap`).
 */
export class TrieBuilder {
  // The right spine: left subtrees waiting for their right sibling at branch depth `at` (increasing).
  private readonly nodes: TrieNode[] = [];
  private readonly splits: number[] = [];
  private readonly keys: string[] = [];
  private readonly at: number[] = [];
  private cur: TrieNode | null = null;
  private curSplit = FLOATS;
  private curKey = '';
  private depth = 0;

  constructor(private readonly hasher: StateHasher) {}

  /** Starts a new subtree whose keys share their first `depth` bits. */
  reset(depth: number): this {
    this.nodes.length = 0;
    this.splits.length = 0;
    this.keys.length = 0;
    this.at.length = 0;
    this.cur = null;
    this.depth = depth;
    return this;
  }

  /** Adds a leaf whose key is above every key added so far (not checked: callers sort). */
  add(leaf: TrieLeaf): void {
    if (this.cur !== null) {
      const p = firstDifference(this.curKey, leaf.key);
      while (this.at.length > 0 && this.at[this.at.length - 1]! > p) this.mergeTop();
      this.nodes.push(this.cur);
      this.splits.push(this.curSplit);
      this.keys.push(this.curKey);
      this.at.push(p);
    }
    this.cur = leaf;
    this.curSplit = FLOATS;
    this.curKey = leaf.key;
  }

  finish(): TrieRoot {
    if (this.cur === null) return null;
    while (this.at.length > 0) this.mergeTop();
    const root = this.wrap(this.cur, this.curSplit, this.curKey, this.depth);
    this.cur = null;
    return root;
  }

  /** Joins the top left subtree with the current one under a branch at its depth. */
  private mergeTop(): void {
    const d = this.at.pop()!;
    const key = this.keys.pop()!;
    const l = this.wrap(this.nodes.pop()!, this.splits.pop()!, key, d + 1);
    const r = this.wrap(this.cur!, this.curSplit, this.curKey, d + 1);
    this.cur = branch(this.hasher, l, r);
    this.curSplit = d;
    // Any key of the subtree gives the bits above d; the leftmost is as good as the current one.
    this.curKey = key;
  }

  /** Places a subtree split at depth `split` at depth `to`: single-child branches on the shared bits. */
  private wrap(node: TrieNode, split: number, key: string, to: number): TrieNode {
    if (node.key !== undefined) return node;
    let n: TrieNode = node;
    for (let t = split - 1; t >= to; t--)
      n = bit(key, t) ? branch(this.hasher, null, n) : branch(this.hasher, n, null);
    return n;
  }
}

/** First index in [lo, hi) whose key has bit d set; keys are sorted and share their first d bits. */
function split(updates: readonly TrieUpdate[], lo: number, hi: number, d: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bit(updates[mid]!.key, d)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * Applies sorted updates (strictly increasing keys) to a version and returns the new version; the base is
 * left as it was. Only nodes on touched paths are created; an update that changes nothing (same value,
 * or deleting an absent key) creates nothing, so an unchanged subtree keeps its identity.
 */
export class TrieUpdater {
  private readonly builder: TrieBuilder;
  private updates: readonly TrieUpdate[] = [];

  constructor(private readonly hasher: StateHasher) {
    this.builder = new TrieBuilder(hasher);
  }

  apply(root: TrieRoot, updates: readonly TrieUpdate[]): TrieRoot {
    this.updates = updates;
    try {
      return this.update(root, 0, updates.length, 0);
    } finally {
      this.updates = [];
    }
  }

  private update(node: TrieRoot, lo: number, hi: number, d: number): TrieRoot {
    if (lo === hi) return node;
    if (node === null || node.key !== undefined) return this.rebuild(node, lo, hi, d);
    const mid = split(this.updates, lo, hi, d);
    const l = this.update(node.left, lo, mid, d + 1);
    const r = this.update(node.right, mid, hi, d + 1);
    if (l === node.left && r === node.right) return node;
    // The compact rule: nothing, or a lone leaf, beside an empty side moves up.
    if (l === null && (r === null || r.key !== undefined)) return r;
    if (r === null && l!.key !== undefined) return l;
    return branch(this.hasher, l, r);
  }

  /** The subtree at depth d of an empty spot or a lone leaf after updates [lo, hi): built afresh. */
  private rebuild(leaf: TrieLeaf | null, lo: number, hi: number, d: number): TrieRoot {
    const b = this.builder.reset(d);
    const u = this.updates;
    let placed = leaf === null;
    for (let i = lo; i < hi; i++) {
      const e = u[i]!;
      if (!placed && leaf!.key <= e.key) {
        placed = true;
        if (leaf!.key === e.key) {
          if (e.value !== null) b.add(leaf!.value === e.value ? leaf! : this.leaf(e));
          continue;
        }
        b.add(leaf!);
      }
      if (e.value !== null) b.add(this.leaf(e));
    }
    if (!placed) b.add(leaf!);
    return b.finish();
  }

  private leaf(e: TrieUpdate): TrieLeaf {
    return trieLeaf(e.key, e.value!, e.valueHash!, this.hasher);
  }
}

/** Sorts updates by key in place (latin1 strings compare in byte order); the last update of a key wins. */
export function sortUpdates<T extends { readonly key: string }>(updates: T[]): T[] {
  let ordered = true;
  for (let i = 1; i < updates.length && ordered; i++) ordered = updates[i - 1]!.key < updates[i]!.key;
  if (ordered) return updates;
  // Stable: among equal keys the later update stays later, and the dedup below keeps it.
  updates.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  let n = 0;
  for (let i = 0; i < updates.length; i++) {
    if (i + 1 < updates.length && updates[i]!.key === updates[i + 1]!.key) continue;
    updates[n++] = updates[i]!;
  }
  updates.length = n;
  return updates;
}

/** The leaf on key's path, or null (the path ends at an empty subtree); maybe another key's leaf. */
function terminal(root: TrieRoot, key: string, siblings?: Uint8Array[]): TrieLeaf | null {
  let node = root;
  for (let d = 0; node !== null && node.key === undefined; d++) {
    const right = bit(key, d) === 1;
    if (siblings !== undefined) {
      const sibling = right ? node.left : node.right;
      siblings.push(sibling === null ? ZERO_HASH : hashBytes(sibling));
    }
    node = right ? node.right : node.left;
  }
  return node as TrieLeaf | null;
}

/** The value of a key in a version, or undefined. */
export function trieGet(root: TrieRoot, key: string): string | undefined {
  const leaf = terminal(root, key);
  return leaf !== null && leaf.key === key ? leaf.value : undefined;
}

/**
 * core's SmtProof of a key (inclusion or absence), built as core's SparseMerkleTree.prove does; the
 * terminal leaf's value hash comes from `valueHash` (leaves keep the value, not its hash).
 */
export function proveTrie(root: TrieRoot, key: string, valueHash: (value: string) => Uint8Array): SmtProof {
  const siblings: Uint8Array[] = [];
  const leaf = terminal(root, key, siblings);
  return packSmtProof(
    siblings,
    leaf === null ? null : { key: keyBytes(leaf.key), valueHash: valueHash(leaf.value) },
  );
}

/** Every leaf of a version in key order. */
export function* trieLeaves(root: TrieRoot): Generator<TrieLeaf> {
  const stack: TrieNode[] = root === null ? [] : [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.key !== undefined) {
      yield node;
      continue;
    }
    // Right first, so the left subtree (bit 0: smaller keys) comes off the stack first.
    if (node.right !== null) stack.push(node.right);
    if (node.left !== null) stack.push(node.left);
  }
}
