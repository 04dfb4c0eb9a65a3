import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareBytes, concatBytes, fromHex, toHex } from '../../../core/bytes.js';
import { CborReader, CborWriter } from '../../../core/cbor.js';
import type { Crypto } from '../../../core/crypto.js';
import { createPortableCrypto } from '../../../core/crypto-portable.js';
import { DecodeError, IosnetError, VerifyError } from '../../../core/errors.js';
import {
  decodeNodeKey,
  decodeSmtNode,
  decodeSmtProof,
  encodeNodeKey,
  encodeSmtNode,
  encodeSmtProof,
  packSmtProof,
  readSmtProof,
  type SmtNode,
  type SmtProof,
  smtLeafHash,
  smtNodeHash,
  smtPathBit,
  unpackSmtSiblings,
  verifySmtProof,
  writeSmtProof,
  ZERO_HASH,
} from '../../../core/smt.js';
import { MemorySmtStore, SmtStoreError, SparseMerkleTree } from '../../../core/smt-store.js';
import { createNativeCrypto } from '../../../gateway/crypto/native.js';

const crypto = createPortableCrypto((n) => new Uint8Array(randomBytes(n)));
/** sha256 from node:crypto; the curves are not needed by the tree. */
const nativeCrypto: Crypto = {
  ...crypto,
  name: 'native-sha256',
  sha256(...parts) {
    const h = createHash('sha256');
    for (const p of parts) h.update(p);
    return new Uint8Array(h.digest());
  },
};

type Entry = [Uint8Array, Uint8Array];
// Seeded (mulberry32) so that a failure reproduces; fast-check prints its own seed.
let seed = 0x5eed;
function next(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const rand = (n = 32) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));

/** Keys that share long prefixes (zero-led, or one random key with its last bits changed) to force deep paths. */
function clusteredKeys(n: number): Uint8Array[] {
  const base = rand();
  return Array.from({ length: n }, (_, i) => {
    const k = rand();
    if (i % 3 === 0) k.fill(0, 0, i % 32);
    if (i % 3 === 1) {
      k.set(base.subarray(0, 30));
      k[30] = i >> 8;
      k[31] = i & 0xff;
    }
    return k;
  });
}

/** The compact-SMT root computed directly from the definition, from a sorted list. */
function refRoot(c: Crypto, entries: Entry[], d = 0): Uint8Array {
  if (entries.length === 0) return ZERO_HASH;
  if (entries.length === 1) return smtLeafHash(c, entries[0]![0], entries[0]![1]);
  const left = entries.filter(([k]) => smtPathBit(k, d) === 0);
  const right = entries.filter(([k]) => smtPathBit(k, d) === 1);
  return smtNodeHash(c, refRoot(c, left, d + 1), refRoot(c, right, d + 1));
}
const sorted = (m: Map<string, Uint8Array>): Entry[] =>
  [...m].map(([k, v]) => [fromHex(k), v] as Entry).sort((a, b) => compareBytes(a[0], b[0]));

/** Every node key reachable from a version's root, checking the compact rule on the way. */
function reachable(store: MemorySmtStore, version: number, checkCodec = false): Set<string> {
  const out = new Set<string>();
  const stack: [Uint8Array, number, number][] = [[new Uint8Array(32), version, 0]];
  while (stack.length) {
    const [path, v, d] = stack.pop()!;
    const key = encodeNodeKey(v, path, d);
    out.add(toHex(key));
    const node = store.getNode(key);
    if (!node) throw new Error(`missing node v${v} d${d}`);
    if (checkCodec) expect(decodeSmtNode(encodeSmtNode(node))).toEqual(node);
    if (node.kind !== 'internal') continue;
    [node.left, node.right].forEach((child, bit) => {
      if (!child) return;
      const p = path.slice();
      if (bit) p[d >> 3]! |= 0x80 >> (d & 7);
      stack.push([p, child.version, d + 1]);
    });
  }
  return out;
}

function decodeOrUndefined(bytes: Uint8Array | undefined): SmtNode | undefined {
  return bytes === undefined ? undefined : decodeSmtNode(bytes);
}

function codeOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    if (e instanceof VerifyError && typeof e.data.reason === 'string') return `${e.code}:${e.data.reason}`;
    if (e instanceof IosnetError) return e.code;
    throw e;
  }
}

function checkProof(
  tree: SparseMerkleTree,
  version: number,
  root: Uint8Array,
  key: Uint8Array,
  value?: Uint8Array,
) {
  const proof = decodeSmtProof(encodeSmtProof(tree.prove(version, key)));
  verifySmtProof(crypto, root, key, value ?? null, proof);
  expect(tree.get(version, key)).toEqual(value);
  return proof;
}

describe('sparse Merkle tree roots', () => {
  it('is ZERO_HASH when empty and the leaf hash with one key', () => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, crypto);
    const r0 = tree.applyBatch(null, 0, []);
    store.commit(0, r0);
    expect(r0.root).toEqual(ZERO_HASH);
    expect(tree.root(0)).toEqual(ZERO_HASH);
    const [k, v] = [rand(), rand()];
    const r1 = tree.applyBatch(0, 1, [[k, v]]);
    store.commit(1, r1);
    expect(tree.root(1)).toEqual(smtLeafHash(crypto, k, v));
    expect([...tree.leaves(0)]).toEqual([]);
  });

  it('matches the reference for random and clustered sets built in one batch', () => {
    for (const n of [2, 3, 10, 100, 1000]) {
      for (const keys of [Array.from({ length: n }, () => rand()), clusteredKeys(n)]) {
        const entries: Entry[] = keys.map((k) => [k, rand()]);
        const result = new SparseMerkleTree(new MemorySmtStore(), crypto).applyBatch(null, 1, entries);
        const expected = refRoot(
          crypto,
          entries.sort((a, b) => compareBytes(a[0], b[0])),
        );
        expect(toHex(result.root)).toBe(toHex(expected));
      }
    }
  });

  it('is the same with node:crypto sha256', () => {
    const entries: Entry[] = clusteredKeys(300).map((k) => [k, rand()]);
    const a = new SparseMerkleTree(new MemorySmtStore(), crypto).applyBatch(null, 1, entries);
    const b = new SparseMerkleTree(new MemorySmtStore(), nativeCrypto).applyBatch(null, 1, entries);
    expect(b.root).toEqual(a.root);
  });

  it('handles keys that differ only in their last bit (leaves at depth 256)', () => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, crypto);
    const a = new Uint8Array(32);
    const b = a.slice();
    b[31] = 1;
    const r = tree.applyBatch(null, 1, [
      [a, rand()],
      [b, rand()],
    ]);
    store.commit(1, r);
    const p = tree.prove(1, b);
    expect(p.depth).toBe(256);
    verifySmtProof(crypto, r.root, b, tree.get(1, b)!, decodeSmtProof(encodeSmtProof(p)));
    expect(encodeSmtProof(p).length).toBe(3 + 3 + 34 + 34 + 69);
  });
});

describe('versioned updates', () => {
  it('track a model through random insert/update/delete batches, keep old versions, and prune', () => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, crypto);
    // A second store that keeps only encoded bytes, as LMDB does: the tree must read the same through it.
    const bytes = new Map<string, Uint8Array>();
    const encodedTree = new SparseMerkleTree(
      { getNode: (k) => decodeOrUndefined(bytes.get(toHex(k))) },
      crypto,
    );
    const model = new Map<string, Uint8Array>();
    const history: { root: Uint8Array; model: Map<string, Uint8Array> }[] = [];
    const pool = clusteredKeys(120);
    let base: number | null = null;
    for (let v = 1; v <= 40; v++) {
      const batch: [Uint8Array, Uint8Array | null][] = [];
      const size = v === 1 ? 60 : 1 + (v % 13);
      for (let i = 0; i < size; i++) {
        const key = pool[Math.floor(next() * pool.length)]!;
        batch.push([key, next() < 0.35 ? null : rand()]);
      }
      if (v % 10 === 0) for (const k of model.keys()) batch.push([fromHex(k), null]); // delete everything
      for (const [k, val] of batch) val ? model.set(toHex(k), val) : model.delete(toHex(k));
      const before = base === null ? new Set<string>() : reachable(store, base);
      const result = tree.applyBatch(base, v, batch);
      store.commit(v, result);
      for (const [k, node] of result.newNodes) bytes.set(toHex(k), encodeSmtNode(node));
      expect(encodedTree.root(v)).toEqual(result.root);
      const after = reachable(store, v);
      // Stale keys are exactly the base's nodes that the new version dropped; new nodes are all reachable.
      expect(new Set(result.staleNodes.map(toHex))).toEqual(
        new Set([...before].filter((k) => !after.has(k))),
      );
      expect(result.staleNodes.length).toBe(new Set(result.staleNodes.map(toHex)).size);
      const written = new Set(result.newNodes.map(([k]) => toHex(k)));
      expect(written.size).toBe(result.newNodes.length);
      expect([...written].filter((k) => !after.has(k))).toEqual([]);
      expect([...after].filter((k) => !before.has(k) && !written.has(k))).toEqual([]);

      expect(toHex(result.root)).toBe(toHex(refRoot(crypto, sorted(model))));
      expect(tree.root(v)).toEqual(result.root);
      expect([...tree.leaves(v)].map((l) => [l.key, l.valueHash])).toEqual(sorted(model));
      history.push({ root: result.root, model: new Map(model) });
      base = v;
    }
    // Every old version still reads and proves until pruned.
    history.forEach(({ root, model: m }, i) => {
      for (const key of pool.slice(0, 40)) {
        checkProof(tree, i + 1, root, key, m.get(toHex(key)));
        expect(encodedTree.prove(i + 1, key)).toEqual(tree.prove(i + 1, key));
      }
    });
    const pruned = store.prune(40);
    expect(pruned).toBeGreaterThan(0);
    expect(store.size).toBe(reachable(store, 40, true).size);
    for (const key of pool) checkProof(tree, 40, history[39]!.root, key, model.get(toHex(key)));
    expect(codeOf(() => tree.root(39))).toBe('SMT_NODE_MISSING');
  });

  it('writes only touched paths: one update in a 5,000-key tree rewrites ~log2(n) nodes', () => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, crypto);
    const entries: Entry[] = Array.from({ length: 5000 }, () => [rand(), rand()]);
    store.commit(1, tree.applyBatch(null, 1, entries));
    const r = tree.applyBatch(1, 2, [[entries[7]![0], rand()]]);
    expect(r.newNodes.length).toBeLessThan(30);
    expect(r.staleNodes.length).toBe(r.newNodes.length);
  });

  it('a no-op batch copies only the root; the last update of a key in a batch wins', () => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, crypto);
    const entries: Entry[] = Array.from({ length: 50 }, () => [rand(), rand()]);
    store.commit(1, tree.applyBatch(null, 1, entries));
    const noop = tree.applyBatch(1, 2, [entries[3]!, [rand(), null]]);
    expect(noop.newNodes.length).toBe(1);
    expect(noop.staleNodes.length).toBe(1);
    expect(noop.root).toEqual(tree.root(1));
    const v = rand();
    const last = tree.applyBatch(1, 3, [
      [entries[3]![0], null],
      [entries[3]![0], v],
    ]);
    store.commit(3, last);
    expect(tree.get(3, entries[3]![0])).toEqual(v);
  });

  it('rejects bad versions and bad input without producing anything', () => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, crypto);
    store.commit(5, tree.applyBatch(null, 5, [[rand(), rand()]]));
    expect(codeOf(() => tree.applyBatch(5, 5, []))).toBe('ARGUMENT_INVALID');
    expect(codeOf(() => tree.applyBatch(4, 5, []))).toBe('SMT_VERSION_EXISTS');
    expect(codeOf(() => tree.applyBatch(null, 5, []))).toBe('SMT_VERSION_EXISTS');
    expect(codeOf(() => tree.applyBatch(3, 6, []))).toBe('SMT_NODE_MISSING');
    expect(codeOf(() => tree.applyBatch(5, 6, [[rand(31), rand()]]))).toBe('ARGUMENT_INVALID');
    expect(codeOf(() => tree.root(9))).toBe('SMT_NODE_MISSING');
    expect(() => tree.root(9)).toThrow(SmtStoreError);
  });
});

describe('smt proofs', () => {
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store, crypto);
  const entries: Entry[] = clusteredKeys(200).map((k) => [k, rand()]);
  const built = tree.applyBatch(null, 1, entries);
  store.commit(1, built);
  const root = built.root;
  const absent = Array.from({ length: 200 }, () => rand());
  const emptyKey = absent.find((k) => tree.prove(1, k).leaf === null)!;
  const leafKey = absent.find((k) => tree.prove(1, k).leaf !== null)!;
  const [k0, v0] = entries[0]!;

  it('prove inclusion of every key and absence in both shapes', () => {
    for (const [k, v] of entries) {
      const p = checkProof(tree, 1, root, k, v);
      expect(p.leaf?.key).toEqual(k);
    }
    for (const k of absent) checkProof(tree, 1, root, k);
    expect(emptyKey && leafKey).toBeTruthy();
    const p = tree.prove(1, leafKey);
    expect(p.leaf!.key).not.toEqual(leafKey);
  });

  it('prove absence in the empty tree and in a one-leaf tree (depth 0)', () => {
    const s = new MemorySmtStore();
    const t = new SparseMerkleTree(s, crypto);
    s.commit(1, t.applyBatch(null, 1, []));
    expect(checkProof(t, 1, ZERO_HASH, k0).depth).toBe(0);
    const one = t.applyBatch(1, 2, [[k0, v0]]);
    s.commit(2, one);
    expect(checkProof(t, 2, one.root, k0, v0).depth).toBe(0);
    expect(checkProof(t, 2, one.root, leafKey).leaf!.key).toEqual(k0);
  });

  it('reject every broken claim with the rule it breaks', () => {
    const verify = (key: Uint8Array, value: Uint8Array | null, p: SmtProof, r = root) =>
      codeOf(() => verifySmtProof(crypto, r, key, value, p));
    const incl = tree.prove(1, k0);
    const empty = tree.prove(1, emptyKey);
    const other = tree.prove(1, leafKey);
    expect(verify(k0, v0, incl, rand())).toBe('VERIFY_ROOT_MISMATCH');
    expect(verify(k0, rand(), incl)).toBe('VERIFY_PROOF_INVALID:VALUE_MISMATCH');
    expect(verify(k0, null, incl)).toBe('VERIFY_PROOF_INVALID:KEY_PRESENT');
    expect(verify(emptyKey, rand(), empty)).toBe('VERIFY_PROOF_INVALID:KEY_ABSENT');
    expect(verify(leafKey, rand(), other)).toBe('VERIFY_PROOF_INVALID:KEY_ABSENT');
    expect(verify(leafKey, null, { ...other, leaf: { key: rand(), valueHash: rand() } })).toMatch(
      /^VERIFY_(PROOF_INVALID:LEAF_OFF_PATH|ROOT_MISMATCH)$/,
    );
    const flipFirst = k0.slice();
    flipFirst[0]! ^= 0x80;
    expect(verify(leafKey, null, { ...other, leaf: { key: flipFirst, valueHash: rand() } })).toBe(
      'VERIFY_PROOF_INVALID:LEAF_OFF_PATH',
    );
    // A proof of another key reused for k0: its terminal leaf is off k0's path or the root differs.
    expect(verify(k0, v0, tree.prove(1, entries[1]![0]))).toMatch(/^VERIFY_/);
    const deeper = packSmtProof([...unpackSmtSiblings(empty), ZERO_HASH], null);
    expect(verify(emptyKey, null, deeper)).toBe('VERIFY_PROOF_INVALID:NON_CANONICAL');
    const leafBesideEmpty = packSmtProof([...unpackSmtSiblings(incl), ZERO_HASH], incl.leaf);
    expect(verify(k0, v0, leafBesideEmpty)).toBe('VERIFY_PROOF_INVALID:NON_CANONICAL');
    // Hand-built objects get the wire form's layout checks too.
    expect(verify(k0, v0, { ...incl, siblings: incl.siblings.subarray(32) })).toBe(
      'VERIFY_PROOF_INVALID:MALFORMED',
    );
    expect(verify(k0, v0, { ...incl, bitmap: concatBytes(incl.bitmap, Uint8Array.of(0)) })).toBe(
      'VERIFY_PROOF_INVALID:MALFORMED',
    );
    const zeroSibling = concatBytes(ZERO_HASH, incl.siblings.subarray(32));
    expect(verify(k0, v0, { ...incl, siblings: zeroSibling })).toBe('VERIFY_PROOF_INVALID:MALFORMED');
    expect(verify(k0, v0, { ...incl, depth: 257 })).toBe('VERIFY_PROOF_INVALID:MALFORMED');
  });

  it('round-trip through the wire form and embed with writeSmtProof/readSmtProof', () => {
    for (const k of [k0, emptyKey, leafKey]) {
      const p = tree.prove(1, k);
      expect(decodeSmtProof(encodeSmtProof(p))).toEqual(p);
      const outer = writeSmtProof(new CborWriter().array(2).uint(3), p).finish();
      const r = new CborReader(outer);
      r.array('outer', 2);
      r.uint('x');
      expect(readSmtProof(r)).toEqual(p);
      r.end();
    }
  });

  it('random byte mutations decode-and-fail or fail decoding; any proof that still verifies is the original', () => {
    const cases = [k0, entries[50]![0], emptyKey, leafKey].map((key) => ({
      key,
      value: tree.get(1, key) ?? null,
      bytes: encodeSmtProof(tree.prove(1, key)),
    }));
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: -3, max: 3 }), { nil: undefined }),
        fc.boolean(),
        ({ key, value, bytes: good }, edits, resize, xor) => {
          let bytes: Uint8Array = good.slice();
          for (const [pos, b] of edits)
            bytes[pos % bytes.length] = xor ? bytes[pos % bytes.length]! ^ (1 << (b & 7)) : b;
          if (resize !== undefined) {
            bytes =
              resize > 0
                ? concatBytes(bytes, new Uint8Array(resize))
                : bytes.subarray(0, bytes.length + resize);
          }
          try {
            verifySmtProof(crypto, root, key, value, decodeSmtProof(bytes));
          } catch (e) {
            if (e instanceof DecodeError || e instanceof VerifyError) return;
            throw e;
          }
          expect(toHex(bytes)).toBe(toHex(good));
        },
      ),
      { numRuns: 5000 },
    );
  });
});

describe('smt proofs with the gateway backend (node:crypto)', () => {
  // verifySmtProof rewrites one prefix || left || right buffer per level and hashes it as one part; the
  // native backend copies multi-part input into a reused scratch. Both must give every verdict the
  // portable backend gives, on good proofs and on damaged ones.
  const native = createNativeCrypto();
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store, crypto);
  const entries: Entry[] = clusteredKeys(120).map((k) => [k, rand()]);
  const built = tree.applyBatch(null, 1, entries);
  store.commit(1, built);
  const keys = [...entries.slice(0, 20).map(([k]) => k), ...Array.from({ length: 20 }, () => rand())];

  it('accepts and refuses exactly as the portable backend, on good and mutated proofs', () => {
    const cases = keys.map((key) => ({
      key,
      value: tree.get(1, key) ?? null,
      bytes: encodeSmtProof(tree.prove(1, key)),
    }));
    for (const { key, value, bytes } of cases) {
      verifySmtProof(native, built.root, key, value, decodeSmtProof(bytes));
    }
    fc.assert(
      fc.property(
        fc.constantFrom(...cases),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        ({ key, value, bytes: good }, edits, otherValue) => {
          const bytes = good.slice();
          for (const [pos, b] of edits) bytes[pos % bytes.length] = b;
          const claim = otherValue ? rand() : value;
          const verdict = (c: Crypto) =>
            codeOf(() => verifySmtProof(c, built.root, key, claim, decodeSmtProof(bytes)));
          expect(verdict(native)).toBe(verdict(crypto));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('matches the straightforward per-level smtNodeHash walk at every depth', () => {
    for (const key of keys) {
      const proof = tree.prove(1, key);
      const leaf = proof.leaf;
      let h = leaf === null ? ZERO_HASH : smtLeafHash(crypto, leaf.key, leaf.valueHash);
      const siblings = unpackSmtSiblings(proof);
      for (let i = proof.depth - 1; i >= 0; i--) {
        h = smtPathBit(key, i) ? smtNodeHash(crypto, siblings[i]!, h) : smtNodeHash(crypto, h, siblings[i]!);
      }
      expect(toHex(h)).toBe(toHex(built.root));
      const value = tree.get(1, key) ?? null;
      verifySmtProof(crypto, h, key, value, proof);
      verifySmtProof(native, h, key, value, proof);
    }
  });
});

describe('store formats', () => {
  it('node keys are canonical', () => {
    const path = rand();
    for (const depth of [0, 1, 7, 8, 9, 255, 256]) {
      const key = encodeNodeKey(2 ** 40 + 3, path, depth);
      expect(key.length).toBe(10 + Math.ceil(depth / 8));
      const d = decodeNodeKey(key);
      expect(d.version).toBe(2 ** 40 + 3);
      expect(encodeNodeKey(d.version, d.path, d.depth)).toEqual(key);
    }
    const k = encodeNodeKey(1, Uint8Array.of(0xff), 3);
    expect(k[10]).toBe(0xe0);
    expect(codeOf(() => decodeNodeKey(Uint8Array.of(...k.subarray(0, 10), 0xe1)))).toBe(
      'DECODE_NON_CANONICAL',
    );
    expect(codeOf(() => decodeNodeKey(concatBytes(k, Uint8Array.of(0))))).toBe('DECODE_INVALID_LENGTH');
    expect(codeOf(() => decodeNodeKey(Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 1, 1)))).toBe('DECODE_INT_RANGE');
  });

  it('nodes round-trip and broken nodes are refused', () => {
    const child = { hash: rand(), version: 7, leaf: true };
    const inner = { hash: rand(), version: 3, leaf: false };
    const nodes: SmtNode[] = [
      { kind: 'empty' },
      { kind: 'leaf', key: rand(), valueHash: rand() },
      { kind: 'internal', left: child, right: inner },
      { kind: 'internal', left: null, right: inner },
    ];
    for (const n of nodes) expect(decodeSmtNode(encodeSmtNode(n))).toEqual(n);
    const collapsible = encodeSmtNode({ kind: 'internal', left: child, right: null });
    expect(codeOf(() => decodeSmtNode(collapsible))).toBe('DECODE_INVALID_VALUE');
    const bothEmpty = encodeSmtNode({ kind: 'internal', left: null, right: null });
    expect(codeOf(() => decodeSmtNode(bothEmpty))).toBe('DECODE_INVALID_VALUE');
    expect(codeOf(() => decodeSmtNode(new CborWriter().array(1).uint(9).finish()))).toBe(
      'DECODE_INVALID_VALUE',
    );
  });
});

interface SmtVectors {
  valid: {
    name: string;
    entries: [string, string][];
    root: string;
    proofs: { key: string; valueHash: string | null; kind: string; proof: string }[];
  }[];
  reject: {
    name: string;
    root: string;
    key: string;
    valueHash: string | null;
    proof: string;
    error: string;
    reason?: string;
  }[];
}

describe('smt vectors (test/vectors/smt/proofs.json)', () => {
  const vectors = JSON.parse(
    readFileSync(new URL('../../vectors/smt/proofs.json', import.meta.url), 'utf8'),
  ) as SmtVectors;

  it.each(vectors.valid)('valid: $name', ({ entries, root, proofs }) => {
    const store = new MemorySmtStore();
    const tree = new SparseMerkleTree(store, crypto);
    const result = tree.applyBatch(
      null,
      1,
      entries.map(([k, v]) => [fromHex(k), fromHex(v)] as Entry),
    );
    store.commit(1, result);
    expect(toHex(result.root)).toBe(root);
    for (const { key, valueHash, proof } of proofs) {
      expect(toHex(encodeSmtProof(tree.prove(1, fromHex(key))))).toBe(proof);
      verifySmtProof(
        crypto,
        fromHex(root),
        fromHex(key),
        valueHash ? fromHex(valueHash) : null,
        decodeSmtProof(fromHex(proof)),
      );
    }
  });

  it('cover inclusion and both absence shapes', () => {
    const kinds = new Set(vectors.valid.flatMap((v) => v.proofs.map((p) => p.kind)));
    expect(kinds).toEqual(new Set(['inclusion', 'absence-empty', 'absence-leaf']));
  });

  it.each(vectors.reject)('reject: $name -> $error', ({ root, key, valueHash, proof, error, reason }) => {
    const run = () =>
      verifySmtProof(
        crypto,
        fromHex(root),
        fromHex(key),
        valueHash ? fromHex(valueHash) : null,
        decodeSmtProof(fromHex(proof)),
      );
    expect(codeOf(run)).toBe(reason ? `${error}:${reason}` : error);
  });
});
