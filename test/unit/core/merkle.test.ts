import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, equalBytes, fromHex, toHex } from '../../../core/bytes.js';
import { CborReader, CborWriter } from '../../../core/cbor.js';
import { createPortableCrypto } from '../../../core/crypto-portable.js';
import { DecodeError, IosnetError, VerifyError } from '../../../core/errors.js';
import {
  buildMerkleTree,
  decodeMerkleProof,
  EMPTY_ROOT,
  encodeMerkleProof,
  type MerkleProof,
  merkleLeafHash,
  merkleNodeHash,
  merkleProof,
  merkleRoot,
  readMerkleProof,
  verifyMerkleProof,
  writeMerkleProof,
} from '../../../core/merkle.js';

const crypto = createPortableCrypto((n) => new Uint8Array(randomBytes(n)));
const txIds = (n: number, seed = 0) =>
  Array.from({ length: n }, (_, i) => crypto.sha256(Uint8Array.of(seed, i >> 8, i & 0xff)));

// RFC 9162 §2.1.1 and §2.1.3.1 written as the recursive definitions, to check the iterative code against.
function refRoot(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return new Uint8Array(32);
  if (d.length === 1) return merkleLeafHash(crypto, d[0]!);
  const k = largestPowerOfTwoBelow(d.length);
  return merkleNodeHash(crypto, refRoot(d.slice(0, k)), refRoot(d.slice(k)));
}
function refPath(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length === 1) return [];
  const k = largestPowerOfTwoBelow(d.length);
  if (m < k) return [...refPath(m, d.slice(0, k)), refRoot(d.slice(k))];
  return [...refPath(m - k, d.slice(k)), refRoot(d.slice(0, k))];
}
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function codeOf(run: () => void): string | undefined {
  try {
    run();
    return undefined;
  } catch (e) {
    if (e instanceof IosnetError) return e.code;
    throw e;
  }
}

describe('merkleRoot', () => {
  it('is EMPTY_ROOT for no leaves and the leaf hash for one', () => {
    expect(merkleRoot(crypto, [])).toEqual(EMPTY_ROOT);
    const [a] = txIds(1);
    expect(merkleRoot(crypto, [a!])).toEqual(merkleLeafHash(crypto, a!));
  });

  it('matches the recursive RFC 9162 definition for 0..70 leaves and for 10,000', () => {
    for (let n = 0; n <= 70; n++) expect(toHex(merkleRoot(crypto, txIds(n)))).toBe(toHex(refRoot(txIds(n))));
    const big = txIds(10_000, 1);
    expect(toHex(merkleRoot(crypto, big))).toBe(toHex(refRoot(big)));
  });

  it('gives different roots to a list and the list with its last id duplicated (CVE-2012-2459)', () => {
    const three = txIds(3);
    expect(merkleRoot(crypto, three)).not.toEqual(merkleRoot(crypto, [...three, three[2]!]));
  });
});

describe('merkle inclusion proofs', () => {
  it('are the RFC 9162 path for every index of trees of 1..70 leaves, and verify after a round trip', () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = txIds(n);
      const tree = buildMerkleTree(crypto, leaves);
      for (let i = 0; i < n; i++) {
        const proof = tree.proof(i);
        expect(proof.siblings.map(toHex)).toEqual(refPath(i, leaves).map(toHex));
        const decoded = decodeMerkleProof(encodeMerkleProof(proof));
        expect(decoded).toEqual({ index: i, count: n, siblings: proof.siblings });
        verifyMerkleProof(crypto, tree.root, leaves[i]!, decoded);
      }
    }
  });

  it('rejects tampered proofs for every index of trees of 2..40 leaves', () => {
    for (let n = 2; n <= 40; n++) {
      const leaves = txIds(n);
      const root = merkleRoot(crypto, leaves);
      for (let i = 0; i < n; i++) {
        const p = merkleProof(crypto, leaves, i);
        const s = p.siblings;
        const check = (q: MerkleProof) => codeOf(() => verifyMerkleProof(crypto, root, leaves[i]!, q));
        const flipped = s.map((x, j) =>
          j === s.length - 1 ? Uint8Array.from(x, (b, k) => (k === 7 ? b ^ 4 : b)) : x,
        );
        expect(check({ ...p, siblings: flipped })).toBe('VERIFY_ROOT_MISMATCH');
        expect(check({ ...p, siblings: s.slice(1) })).toBe('VERIFY_PROOF_INVALID');
        expect(check({ ...p, siblings: [...s, s[0]!] })).toBe('VERIFY_PROOF_INVALID');
        if (s.length >= 2)
          expect(check({ ...p, siblings: [s[1]!, s[0]!, ...s.slice(2)] })).toBe('VERIFY_ROOT_MISMATCH');
        expect(check({ ...p, index: n })).toBe('VERIFY_PROOF_INVALID');
        expect(check({ ...p, index: (i + 1) % n })).toMatch(/^VERIFY_/);
        expect(codeOf(() => verifyMerkleProof(crypto, root, leaves[(i + 1) % n]!, p))).toMatch(/^VERIFY_/);
      }
    }
  });

  it('rejects malformed encodings', () => {
    const leaves = txIds(5);
    const good = encodeMerkleProof(merkleProof(crypto, leaves, 2));
    expect(codeOf(() => decodeMerkleProof(concatBytes(good, Uint8Array.of(0))))).toBe(
      'DECODE_TRAILING_BYTES',
    );
    expect(codeOf(() => decodeMerkleProof(good.subarray(0, good.length - 1)))).toBe('DECODE_TRUNCATED');
    const longIndex = new CborWriter()
      .array(5)
      .uint(1)
      .uint(10)
      .raw(Uint8Array.of(0x19, 0, 2))
      .uint(5)
      .bytes(new Uint8Array(96));
    expect(codeOf(() => decodeMerkleProof(longIndex.finish()))).toBe('DECODE_NON_CANONICAL');
    const odd = new CborWriter().array(5).uint(1).uint(10).uint(2).uint(5).bytes(new Uint8Array(95));
    expect(codeOf(() => decodeMerkleProof(odd.finish()))).toBe('DECODE_INVALID_LENGTH');
    const many = new CborWriter()
      .array(5)
      .uint(1)
      .uint(10)
      .uint(2)
      .uint(5)
      .bytes(new Uint8Array(65 * 32));
    expect(codeOf(() => decodeMerkleProof(many.finish()))).toBe('DECODE_OVERSIZE');
    const r = new CborReader(many.finish());
    expect(codeOf(() => readMerkleProof(r))).toBe('DECODE_OVERSIZE');
  });

  it('can be embedded in another object with writeMerkleProof/readMerkleProof', () => {
    const leaves = txIds(9);
    const p = merkleProof(crypto, leaves, 8);
    const outer = writeMerkleProof(new CborWriter().array(2).uint(7), p).finish();
    const r = new CborReader(outer);
    expect(r.array('outer', 2)).toBe(2);
    expect(r.uint('x')).toBe(7);
    expect(readMerkleProof(r)).toEqual(p);
    r.end();
  });

  it('do not authenticate count without a trusted count (documented RFC 9162 property)', () => {
    // The last of 3 leaves has the same path as index 1 of a 2-leaf tree: callers must check count.
    const leaves = txIds(3);
    const p = merkleProof(crypto, leaves, 2);
    verifyMerkleProof(crypto, merkleRoot(crypto, leaves), leaves[2]!, {
      index: 1,
      count: 2,
      siblings: p.siblings,
    });
  });
});

describe('merkle proof properties', () => {
  const arbTree = fc
    .integer({ min: 1, max: 80 })
    .chain((n) => fc.tuple(fc.constant(n), fc.nat({ max: n - 1 })));

  it('round-trip through the wire form', () => {
    fc.assert(
      fc.property(arbTree, ([n, i]) => {
        const p = merkleProof(crypto, txIds(n), i);
        expect(decodeMerkleProof(encodeMerkleProof(p))).toEqual(p);
      }),
      { numRuns: 200 },
    );
  });

  it('random byte mutations fail only with DecodeError or VerifyError, and never forge a sibling', () => {
    fc.assert(
      fc.property(
        arbTree,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        fc.option(fc.integer({ min: -3, max: 3 }), { nil: undefined }),
        ([n, i], edits, resize) => {
          const leaves = txIds(n);
          const root = merkleRoot(crypto, leaves);
          const good = encodeMerkleProof(merkleProof(crypto, leaves, i));
          let bytes: Uint8Array = good.slice();
          for (const [pos, b] of edits) bytes[pos % bytes.length] = b;
          if (resize !== undefined) {
            bytes =
              resize > 0
                ? concatBytes(bytes, new Uint8Array(resize))
                : bytes.subarray(0, bytes.length + resize);
          }
          try {
            const p = decodeMerkleProof(bytes);
            verifyMerkleProof(crypto, root, leaves[i]!, p);
            // Only index/count can change undetected (no trusted count here); hashes cannot.
            expect(p.siblings.map(toHex)).toEqual(merkleProof(crypto, leaves, i).siblings.map(toHex));
          } catch (e) {
            if (!(e instanceof DecodeError || e instanceof VerifyError)) throw e;
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

interface MerkleVectors {
  valid: { name: string; leaves: string[]; root: string; proofs: { index: number; proof: string }[] }[];
  reject: { name: string; root: string; leaf: string; proof: string; error: string; reason?: string }[];
}

describe('merkle vectors (test/vectors/merkle/proofs.json)', () => {
  const vectors = JSON.parse(
    readFileSync(new URL('../../vectors/merkle/proofs.json', import.meta.url), 'utf8'),
  ) as MerkleVectors;

  it.each(vectors.valid)('valid: $name', ({ leaves, root, proofs }) => {
    const ids = leaves.map((l) => fromHex(l));
    expect(toHex(merkleRoot(crypto, ids))).toBe(root);
    expect(proofs).toHaveLength(ids.length);
    for (const { index, proof } of proofs) {
      expect(toHex(encodeMerkleProof(merkleProof(crypto, ids, index)))).toBe(proof);
      verifyMerkleProof(crypto, fromHex(root), ids[index]!, decodeMerkleProof(fromHex(proof)));
    }
  });

  it.each(vectors.reject)('reject: $name -> $error', ({ root, leaf, proof, error, reason }) => {
    try {
      verifyMerkleProof(crypto, fromHex(root), fromHex(leaf), decodeMerkleProof(fromHex(proof)));
      expect.unreachable('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(IosnetError);
      expect((e as IosnetError).code).toBe(error);
      if (reason !== undefined) expect((e as IosnetError).data.reason).toBe(reason);
    }
  });

  it('has at least one proof of every shape', () => {
    expect(equalBytes(fromHex(vectors.valid[0]!.root), EMPTY_ROOT)).toBe(true);
    expect(vectors.reject.some((r) => r.error.startsWith('DECODE_'))).toBe(true);
    expect(vectors.reject.some((r) => r.error === 'VERIFY_ROOT_MISMATCH')).toBe(true);
  });
});
