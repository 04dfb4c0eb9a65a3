import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createPortableCrypto } from '../../../../core/crypto-portable.js';
import { DomainTag, taggedHash } from '../../../../core/hash.js';
import { verifySmtProof, ZERO_HASH } from '../../../../core/smt.js';
import { MemorySmtStore, SparseMerkleTree } from '../../../../core/smt-store.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { createStateHasher } from '../../../../gateway/state/hasher.js';
import {
  hashBytes,
  proveTrie,
  sortUpdates,
  TrieBuilder,
  type TrieRoot,
  type TrieUpdate,
  TrieUpdater,
  trieGet,
  trieLeaf,
  trieLeaves,
} from '../../../../gateway/state/trie.js';
import { bytesOf, latin1 } from '../../../../gateway/util/latin1.js';

const native = createNativeCrypto();
const portable = createPortableCrypto((n) => new Uint8Array(randomBytes(n)));
const hasher = createStateHasher(native);

// Seeded (mulberry32), so that a failure reproduces.
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function bytes(random: () => number, n = 32): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(random() * 256));
}

/** A key pool mixing random keys with ones sharing long prefixes, down to keys differing in their last bit. */
function keyPool(random: () => number, n: number): Uint8Array[] {
  const base = bytes(random);
  return Array.from({ length: n }, (_, i) => {
    const k = bytes(random);
    if (i % 4 === 1) k.fill(0, 0, (i >> 2) % 32);
    if (i % 4 === 2) {
      k.set(base.subarray(0, 31));
      k[31] = (k[31]! & 0x0f) | (i & 0xf0);
    }
    if (i % 4 === 3) {
      k.set(base);
      k[31] = base[31]! ^ (1 << (i % 8));
    }
    return k;
  });
}

// The tests store each value hash as the leaf's value itself, so the proof's value hash is the value.
const valueHashOf = (value: string) => bytesOf(value);
function get(root: TrieRoot, key: Uint8Array): Uint8Array | undefined {
  const v = trieGet(root, latin1(key));
  return v === undefined ? undefined : bytesOf(v);
}

/** Applies one batch to both trees; returns the trie's new version. */
function applyBoth(
  tree: SparseMerkleTree,
  store: MemorySmtStore,
  version: number,
  root: TrieRoot,
  batch: [Uint8Array, Uint8Array | null][],
): TrieRoot {
  const result = tree.applyBatch(version === 0 ? null : version - 1, version, batch);
  store.commit(version, result);
  const updates: TrieUpdate[] = batch.map(([k, v]) => ({
    key: latin1(k),
    value: v === null ? null : latin1(v),
    valueHash: v === null ? null : latin1(v),
  }));
  const next = new TrieUpdater(hasher).apply(root, sortUpdates(updates));
  expect(hashBytes(next)).toEqual(result.root);
  return next;
}

function expectSameProofs(tree: SparseMerkleTree, version: number, root: TrieRoot, keys: Uint8Array[]): void {
  const rootBytes = hashBytes(root);
  for (const key of keys) {
    const proof = proveTrie(root, latin1(key), valueHashOf);
    expect(proof).toEqual(tree.prove(version, key));
    expect(get(root, key)).toEqual(tree.get(version, key));
    verifySmtProof(native, rootBytes, key, get(root, key) ?? null, proof);
  }
}

describe('in-memory trie against core SparseMerkleTree', () => {
  for (const seed of [1, 2, 3]) {
    it(`gives the same roots and proofs on random inserts, updates and deletes (seed ${seed})`, () => {
      const random = rng(seed);
      const pool = keyPool(random, 300);
      const store = new MemorySmtStore();
      const tree = new SparseMerkleTree(store, native);
      let root: TrieRoot = null;
      const live = new Set<number>();
      for (let version = 0; version < 40; version++) {
        const size = version === 0 ? 150 : 1 + Math.floor(random() * 30);
        const batch: [Uint8Array, Uint8Array | null][] = [];
        for (let i = 0; i < size; i++) {
          const k = Math.floor(random() * pool.length);
          const r = random();
          // Deletes of present and absent keys, rewrites of the same value, new values.
          if (r < 0.3) batch.push([pool[k]!, null]);
          else if (r < 0.4 && live.has(k)) {
            batch.push([pool[k]!, get(root, pool[k]!) ?? bytes(random)]);
          } else batch.push([pool[k]!, bytes(random)]);
          if (batch[batch.length - 1]![1] === null) live.delete(k);
          else live.add(k);
        }
        root = applyBoth(tree, store, version, root, batch);
        const sample = Array.from({ length: 25 }, () => pool[Math.floor(random() * pool.length)]!);
        expectSameProofs(tree, version, root, [...sample, bytes(random)]);
      }
      // Delete everything: back to the empty tree.
      const all: [Uint8Array, null][] = pool.map((k) => [k, null]);
      root = applyBoth(tree, store, 40, root, all);
      expect(root).toBeNull();
      expectSameProofs(tree, 40, root, pool.slice(0, 5));
    });
  }

  it('handles the smallest trees: empty, one leaf, two leaves differing in the last bit', () => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, native);
    const a = new Uint8Array(32).fill(0xaa);
    const b = a.slice();
    b[31] = b[31]! ^ 1;
    const v = new Uint8Array(32).fill(7);
    let root = applyBoth(tree, store, 0, null, []);
    expect(hashBytes(root)).toEqual(ZERO_HASH);
    root = applyBoth(tree, store, 1, root, [[a, v]]);
    expectSameProofs(tree, 1, root, [a, b]);
    root = applyBoth(tree, store, 2, root, [[b, v]]);
    expect(proveTrie(root, latin1(a), valueHashOf).depth).toBe(256);
    expectSameProofs(tree, 2, root, [a, b]);
    root = applyBoth(tree, store, 3, root, [[a, null]]);
    expect(root?.key).toEqual(latin1(b));
    expectSameProofs(tree, 3, root, [a, b]);
  });

  it('bulk-builds the same root as core, streaming sorted leaves', () => {
    const random = rng(9);
    // Distinct keys only: a bulk build takes each key once.
    const distinct = new Map(keyPool(random, 2000).map((k) => [latin1(k), k]));
    const pool = [...distinct.values()];
    const entries = pool.map((k) => [k, bytes(random)] as [Uint8Array, Uint8Array]);
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, native);
    const result = tree.applyBatch(null, 0, entries);
    store.commit(0, result);
    const leaves = entries
      .map(([k, v]) => {
        return trieLeaf(latin1(k), latin1(v), latin1(v), hasher);
      })
      .sort((x, y) => (x.key < y.key ? -1 : 1));
    const builder = new TrieBuilder(hasher).reset(0);
    for (const leaf of leaves) builder.add(leaf);
    const root = builder.finish();
    expect(hashBytes(root)).toEqual(result.root);
    expect([...trieLeaves(root)].map((l) => l.key)).toEqual(leaves.map((l) => l.key));
    expectSameProofs(tree, 0, root, pool.slice(0, 200));
  });

  it('keeps alternative versions on one parent independent', () => {
    const random = rng(4);
    const pool = keyPool(random, 400);
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, native);
    const base = applyBoth(
      tree,
      store,
      0,
      null,
      pool.slice(0, 300).map((k) => [k, bytes(random)]),
    );
    const baseHash = hashBytes(base);
    const batchA: [Uint8Array, Uint8Array | null][] = pool.slice(250, 350).map((k) => [k, bytes(random)]);
    const batchB: [Uint8Array, Uint8Array | null][] = [
      ...pool.slice(0, 40).map((k): [Uint8Array, null] => [k, null]),
      ...pool.slice(280, 320).map((k): [Uint8Array, Uint8Array] => [k, bytes(random)]),
    ];
    const updater = new TrieUpdater(hasher);
    const asUpdates = (b: [Uint8Array, Uint8Array | null][]) =>
      sortUpdates(
        b.map(([k, v]) => {
          const value = v === null ? null : latin1(v);
          return { key: latin1(k), value, valueHash: value };
        }),
      );
    const a = updater.apply(base, asUpdates(batchA));
    const b = updater.apply(base, asUpdates(batchB));
    expect(hashBytes(base)).toEqual(baseHash);
    // Core builds each candidate on the same base version.
    const ra = tree.applyBatch(0, 1, batchA);
    const rb = tree.applyBatch(0, 2, batchB);
    expect(hashBytes(a)).toEqual(ra.root);
    expect(hashBytes(b)).toEqual(rb.root);
    // The base still proves its own values after both candidates were built on it.
    expectSameProofs(tree, 0, base, pool.slice(0, 60));
    store.commit(2, rb);
    expectSameProofs(tree, 2, b, pool.slice(0, 60));
    // An empty batch and a batch that rewrites identical values return the base itself.
    expect(updater.apply(base, [])).toBe(base);
    const same = [...trieLeaves(base)]
      .slice(0, 10)
      .map((l) => ({ key: l.key, value: l.value, valueHash: l.value }));
    expect(updater.apply(base, same)).toBe(base);
  });
});

describe('state hasher', () => {
  it('gives the same hashes through node:crypto and through a portable Crypto', () => {
    const p = createStateHasher(portable);
    const random = rng(5);
    for (let i = 0; i < 20; i++) {
      const id = bytes(random, 1 + (i % 64));
      const record = bytes(random, 1 + i * 50);
      expect(hasher.stateKey(i, id)).toBe(p.stateKey(i, id));
      expect(hasher.stateKey(i, id)).toBe(
        latin1(taggedHash(native, DomainTag.stateKey, Uint8Array.of(i), id)),
      );
      expect(hasher.stateValue(record)).toBe(p.stateValue(record));
      expect(hasher.stateValue(record)).toBe(latin1(taggedHash(native, DomainTag.stateValue, record)));
      const data = bytes(random, 64);
      for (const h of [hasher, p]) {
        h.leaf.bytes.set(data);
        h.node.bytes.set(data);
      }
      expect(hasher.leaf.digest()).toBe(p.leaf.digest());
      expect(hasher.leaf.digest()).toBe(latin1(taggedHash(native, DomainTag.smtLeaf, data)));
      expect(hasher.node.digest()).toBe(latin1(taggedHash(native, DomainTag.smtNode, data)));
      expect(p.node.digest()).toBe(latin1(taggedHash(native, DomainTag.smtNode, data)));
    }
    const big = bytes(random, 3000);
    expect(hasher.stateValue(big)).toBe(latin1(taggedHash(native, DomainTag.stateValue, big)));
  });
});
