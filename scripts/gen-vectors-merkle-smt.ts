/**
 * Writes test/vectors/merkle/proofs.json and test/vectors/smt/proofs.json from the current code.
 * Run `npx tsx scripts/gen-vectors-merkle-smt.ts` only when a hashing or wire change is intended: the unit
 * tests compare the code against the committed files, so any unintended change shows up as a failure.
 * Malformed proofs are written with the CBOR writer field by field (bypassing encode*'s shape checks).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { concatBytes, toHex, utf8 } from '../core/bytes.js';
import { CborWriter } from '../core/cbor.js';
import { createPortableCrypto } from '../core/crypto-portable.js';
import { IosnetError, VerifyError } from '../core/errors.js';
import {
  decodeMerkleProof,
  encodeMerkleProof,
  type MerkleProof,
  merkleProof,
  merkleRoot,
  verifyMerkleProof,
} from '../core/merkle.js';
import { ObjectType, writeEnvelope } from '../core/object.js';
import { decodeSmtProof, encodeSmtProof, type SmtProof, verifySmtProof } from '../core/smt.js';
import { MemorySmtStore, SparseMerkleTree } from '../core/smt-store.js';

const crypto = createPortableCrypto(() => {
  throw new Error('vectors are deterministic: no randomness');
});
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const h = (s: string) => crypto.sha256(utf8(s));

/** The rejection's code, plus a VerifyError's data.reason so tests pin the exact rule broken. */
function rejection(run: () => void): { error: string; reason?: string } {
  try {
    run();
  } catch (e) {
    if (!(e instanceof IosnetError)) throw e;
    const reason = e.data.reason;
    return e instanceof VerifyError && typeof reason === 'string'
      ? { error: e.code, reason }
      : { error: e.code };
  }
  throw new Error('expected a rejection');
}

function write(rel: string, data: unknown): void {
  const file = join(root, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  console.log(`wrote ${rel}`);
}

// ---- Merkle ----
function merkleVectors() {
  const valid = [0, 1, 2, 3, 5, 7].map((n) => {
    const leaves = Array.from({ length: n }, (_, i) => h(`tx-${i}`));
    return {
      name: `${n} leaves`,
      leaves: leaves.map(toHex),
      root: toHex(merkleRoot(crypto, leaves)),
      proofs: leaves.map((_, index) => ({
        index,
        proof: toHex(encodeMerkleProof(merkleProof(crypto, leaves, index))),
      })),
    };
  });
  const leaves = Array.from({ length: 5 }, (_, i) => h(`tx-${i}`));
  const r = merkleRoot(crypto, leaves);
  const good = merkleProof(crypto, leaves, 2);
  const [s0, s1, s2] = good.siblings as [Uint8Array, Uint8Array, Uint8Array];
  const flipped = s1.slice();
  flipped[0]! ^= 1;
  const raw = (
    index: Uint8Array,
    count: Uint8Array,
    siblings: Uint8Array,
    type: number = ObjectType.merkleProof,
  ) => new CborWriter().array(5).uint(1).uint(type).raw(index).raw(count).bytes(siblings).finish();
  const u = (n: number) => new CborWriter().uint(n).finish();
  const enc = (p: MerkleProof) => encodeMerkleProof(p);
  const cases: [string, Uint8Array, Uint8Array?][] = [
    ['sibling bit flipped', enc({ ...good, siblings: [s0, flipped, s2] })],
    ['sibling dropped', enc({ ...good, siblings: [s0, s1] })],
    ['extra sibling', enc({ ...good, siblings: [s0, s1, s2, s2] })],
    ['siblings reordered', enc({ ...good, siblings: [s1, s0, s2] })],
    ['index equal to count', enc({ ...good, index: 5 })],
    ['wrong index', enc({ ...good, index: 3 })],
    ['wrong count', enc({ ...good, count: 4 })],
    ['wrong leaf', encodeMerkleProof(good), h('tx-9')],
    ['trailing byte', concatBytes(encodeMerkleProof(good), Uint8Array.of(0))],
    ['index not in shortest form', raw(Uint8Array.of(0x18, 2), u(5), concatBytes(s0, s1, s2))],
    ['siblings not a multiple of 32 bytes', raw(u(2), u(5), concatBytes(s0, s1, s2, Uint8Array.of(0)))],
    ['65 siblings', raw(u(2), u(5), new Uint8Array(65 * 32))],
    ['object type of an smt proof', raw(u(2), u(5), concatBytes(s0, s1, s2), ObjectType.smtProof)],
    ['unknown version', new CborWriter().array(5).uint(2).uint(10).uint(2).uint(5).bytes(s0).finish()],
    ['four fields', writeEnvelope(new CborWriter(), ObjectType.merkleProof, 2).uint(2).uint(5).finish()],
    [
      'indefinite-length array',
      concatBytes(Uint8Array.of(0x9f), encodeMerkleProof(good).subarray(1), Uint8Array.of(0xff)),
    ],
  ];
  const reject = cases.map(([name, proof, leaf = leaves[2]!]) => ({
    name,
    root: toHex(r),
    leaf: toHex(leaf),
    proof: toHex(proof),
    ...rejection(() => verifyMerkleProof(crypto, r, leaf, decodeMerkleProof(proof))),
  }));
  return {
    description:
      'RFC 9162 §2.1 Merkle tree over tx ids with iosnet domain tags; MerkleProof = [1, 10, index, count, siblings]. ' +
      'valid: every proof of each tree verifies; reject: decode or verify must fail with `error`.',
    valid,
    reject,
  };
}

// ---- SMT ----
function buildTree(entries: [Uint8Array, Uint8Array][]) {
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store, crypto);
  const result = tree.applyBatch(null, 1, entries);
  store.commit(1, result);
  return { tree, root: result.root };
}

function kindOf(p: SmtProof, key: Uint8Array): string {
  if (p.leaf === null) return 'absence-empty';
  return toHex(p.leaf.key) === toHex(key) ? 'inclusion' : 'absence-leaf';
}

function smtVectors() {
  const keyAt = (hex: string) => Uint8Array.from(Buffer.from(hex.padEnd(64, '0'), 'hex'));
  const trees: { name: string; entries: [Uint8Array, Uint8Array][]; queries: Uint8Array[] }[] = [
    { name: 'empty tree', entries: [], queries: [h('key-0')] },
    { name: 'one leaf', entries: [[h('key-0'), h('value-0')]], queries: [h('key-0'), h('key-1')] },
    {
      name: 'eight hashed keys',
      entries: Array.from(
        { length: 8 },
        (_, i) => [h(`key-${i}`), h(`value-${i}`)] as [Uint8Array, Uint8Array],
      ),
      queries: [h('key-3'), h('key-7'), ...Array.from({ length: 6 }, (_, j) => h(`absent-${j}`))],
    },
    {
      name: 'keys sharing long prefixes',
      entries: [
        [keyAt('00'), h('value-a')],
        [keyAt(`${'00'.repeat(31)}01`), h('value-b')],
        [keyAt('40'), h('value-c')],
        [keyAt('c0'), h('value-d')],
      ],
      queries: [keyAt(`${'00'.repeat(31)}01`), keyAt('40'), keyAt('80'), keyAt('41'), keyAt('0001')],
    },
  ];
  const valid = trees.map(({ name, entries, queries }) => {
    const { tree, root } = buildTree(entries);
    const values = new Map(entries.map(([k, v]) => [toHex(k), v]));
    return {
      name,
      entries: entries.map(([k, v]) => [toHex(k), toHex(v)]),
      root: toHex(root),
      proofs: queries.map((key) => {
        const p = tree.prove(1, key);
        const v = values.get(toHex(key));
        return {
          key: toHex(key),
          valueHash: v ? toHex(v) : null,
          kind: kindOf(p, key),
          proof: toHex(encodeSmtProof(p)),
        };
      }),
    };
  });

  const entries = trees[2]!.entries;
  const { tree, root } = buildTree(entries);
  const [k3, v3] = entries[3]!;
  const incl = tree.prove(1, k3);
  const absentKeys = Array.from({ length: 64 }, (_, j) => h(`absent-${j}`));
  const emptyKey = absentKeys.find((k) => tree.prove(1, k).leaf === null)!;
  const leafKey = absentKeys.find((k) => tree.prove(1, k).leaf !== null)!;
  const emptyProof = tree.prove(1, emptyKey);
  const leafProof = tree.prove(1, leafKey);
  // Field-by-field writer for malformed proofs.
  const raw = (p: {
    depth: Uint8Array;
    bitmap: Uint8Array;
    siblings: Uint8Array;
    leaf: SmtProof['leaf'];
    type?: number;
  }) => {
    const w = writeEnvelope(new CborWriter(), (p.type ?? ObjectType.smtProof) as 9, 4)
      .raw(p.depth)
      .bytes(p.bitmap);
    w.bytes(p.siblings);
    return (p.leaf === null ? w.null() : w.array(2).bytes(p.leaf.key).bytes(p.leaf.valueHash)).finish();
  };
  const u = (n: number) => new CborWriter().uint(n).finish();
  const deeper = (p: SmtProof): Uint8Array => {
    // One more level with an empty sibling: a node with an empty child and an empty subtree cannot exist.
    const bitmap = new Uint8Array((p.depth + 8) >> 3);
    bitmap.set(p.bitmap);
    return raw({ depth: u(p.depth + 1), bitmap, siblings: p.siblings, leaf: p.leaf });
  };
  if ((incl.depth & 7) === 0) throw new Error('pick a proof whose bitmap has unused bits');
  const bitmapExtraBit = incl.bitmap.slice();
  bitmapExtraBit[bitmapExtraBit.length - 1]! |= 0x01;
  const zeroSibling = concatBytes(new Uint8Array(32), incl.siblings.subarray(32));
  const offPath = { key: h('key-far'), valueHash: h('value-far') };
  const cases: [string, Uint8Array, Uint8Array, Uint8Array | null, Uint8Array?][] = [
    ['root mismatch', encodeSmtProof(incl), k3, v3, h('other root')],
    ['inclusion claimed, proof ends at an empty subtree', encodeSmtProof(emptyProof), emptyKey, h('v')],
    ['inclusion claimed, proof ends at another key', encodeSmtProof(leafProof), leafKey, h('v')],
    ['wrong value', encodeSmtProof(incl), k3, h('value-x')],
    ['absence claimed, proof shows the key', encodeSmtProof(incl), k3, null],
    ['other-key leaf off the path', encodeSmtProof({ ...leafProof, leaf: offPath }), leafKey, null],
    ['empty subtree below an empty sibling', deeper(emptyProof), emptyKey, null],
    ['bitmap bit beyond depth', raw({ ...incl, depth: u(incl.depth), bitmap: bitmapExtraBit }), k3, v3],
    [
      'bitmap one byte too long',
      raw({ ...incl, depth: u(incl.depth), bitmap: concatBytes(incl.bitmap, Uint8Array.of(0)) }),
      k3,
      v3,
    ],
    [
      'siblings shorter than the bitmap says',
      raw({ ...incl, depth: u(incl.depth), siblings: incl.siblings.subarray(32) }),
      k3,
      v3,
    ],
    ['empty sibling sent as bytes', raw({ ...incl, depth: u(incl.depth), siblings: zeroSibling }), k3, v3],
    [
      'depth 257',
      raw({ depth: u(257), bitmap: new Uint8Array(33), siblings: new Uint8Array(0), leaf: null }),
      k3,
      null,
    ],
    ['depth not in shortest form', raw({ ...incl, depth: Uint8Array.of(0x18, incl.depth) }), k3, v3],
    [
      'leaf key of 31 bytes',
      raw({ ...incl, depth: u(incl.depth), leaf: { key: k3.subarray(1), valueHash: v3 } }),
      k3,
      v3,
    ],
    [
      'object type of a merkle proof',
      raw({ ...incl, depth: u(incl.depth), type: ObjectType.merkleProof }),
      k3,
      v3,
    ],
    ['trailing byte', concatBytes(encodeSmtProof(incl), Uint8Array.of(0xf6)), k3, v3],
  ];
  const reject = cases.map(([name, proof, key, valueHash, claimedRoot = root]) => ({
    name,
    root: toHex(claimedRoot),
    key: toHex(key),
    valueHash: valueHash === null ? null : toHex(valueHash),
    proof: toHex(proof),
    ...rejection(() => verifySmtProof(crypto, claimedRoot, key, valueHash, decodeSmtProof(proof))),
  }));
  return {
    description:
      'Compact binary sparse Merkle tree (Jellyfish-style) over 32-byte keys with iosnet domain tags; ' +
      'SmtProof = [1, 9, depth, bitmap, siblings, leaf | null]. valid: trees (applied as one batch) with their ' +
      'roots and proofs; valueHash null proves absence; kind is inclusion, absence-empty or absence-leaf. ' +
      'reject: decode or verify must fail with `error`.',
    valid,
    reject,
  };
}

write('test/vectors/merkle/proofs.json', merkleVectors());
write('test/vectors/smt/proofs.json', smtVectors());
