/**
 * Fr polynomials, Shamir shares and Lagrange interpolation (in Fr and in G2), and the two point decoders,
 * which must accept exactly the same bytes (a consensus rule: dealings are valid or not for every node).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../../../core/bytes.js';
import {
  evalCommitment,
  evalPoly,
  Fr,
  G1,
  G2,
  g1ToBytesBatch,
  g2IdentityBytes,
  interpolateAtZero,
  lagrangeAtZero,
  msmG1,
  msmG2,
  nativePointDecoder,
  portablePointDecoder,
  R_ORDER,
  scalarFromBytes,
  scalarToBytes,
} from '../../../../gateway/consensus/beacon/curve.js';

const scalar = fc.bigInt({ min: 1n, max: R_ORDER - 1n });

describe('Shamir over Fr', () => {
  it('any t shares interpolate to f(0); t − 1 shares miss it', () => {
    fc.assert(
      fc.property(
        fc.array(scalar, { minLength: 1, maxLength: 8 }),
        fc.uniqueArray(fc.integer({ min: 1, max: 300 }), { minLength: 8, maxLength: 16 }),
        (coeffs, xs) => {
          const t = coeffs.length;
          const pts = xs.map((x) => ({ x: BigInt(x), y: evalPoly(coeffs, BigInt(x)) }));
          expect(interpolateAtZero(pts.slice(0, t))).toBe(coeffs[0]);
          expect(interpolateAtZero(pts.slice(pts.length - t))).toBe(coeffs[0]);
          if (t > 1) {
            // t − 1 shares interpolate to the degree t−2 polynomial through them, which misses f(0) by
            // exactly a_{t−1}·Π(−x_i) ≠ 0: fewer than t shares do not give the secret.
            const g0 = interpolateAtZero(pts.slice(0, t - 1));
            let err = coeffs[t - 1]!;
            for (const p of pts.slice(0, t - 1)) err = Fr.mul(err, Fr.neg(p.x));
            expect(Fr.sub(coeffs[0]!, g0)).toBe(err);
            expect(err).not.toBe(0n);
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('Lagrange coefficients at 0 sum to 1 and reject repeated indexes', () => {
    const l = lagrangeAtZero([1n, 5n, 9n, 200n]);
    expect(l.reduce((a, b) => Fr.add(a, b), 0n)).toBe(1n);
    expect(() => lagrangeAtZero([1n, 2n, 1n])).toThrow(RangeError);
  });

  it('scalars are 32-byte big-endian below r', () => {
    expect(scalarFromBytes(scalarToBytes(R_ORDER - 1n))).toBe(R_ORDER - 1n);
    expect(scalarFromBytes(fromHex('73eda753299d7d483339d80809a1d80553bda402fffe5bfeffffffff00000001'))).toBe(
      undefined,
    );
    expect(scalarFromBytes(new Uint8Array(31))).toBe(undefined);
  });
});

describe('Feldman commitments and interpolation in G2', () => {
  it('[f(x)]g1 = Σ C_j x^j (Horner and MSM agree)', () => {
    const coeffs = [11n, 22n, 33n, 44n, 55n].map((c) => Fr.mul(c, 0x1234567890abcdefn));
    const C = coeffs.map((a) => G1.BASE.multiply(a));
    for (const x of [1, 2, 17, 4096, 65535]) {
      const fx = evalPoly(coeffs, BigInt(x));
      const viaHorner = evalCommitment(C, x);
      const pw = coeffs.map((_, j) => Fr.pow(BigInt(x), BigInt(j)));
      expect(viaHorner.equals(G1.BASE.multiply(fx))).toBe(true);
      expect(msmG1(C, pw).equals(viaHorner)).toBe(true);
    }
  });

  it('Lagrange in G2 recovers [f(0)]H from [f(x)]H', () => {
    const coeffs = [7n, 8n, 9n];
    const H = G2.BASE.multiply(123456789n);
    const xs = [2n, 5n, 11n];
    const sigs = xs.map((x) => H.multiply(evalPoly(coeffs, x)));
    expect(msmG2(sigs, lagrangeAtZero(xs)).equals(H.multiply(7n))).toBe(true);
  });

  it('g1ToBytesBatch matches toBytes', () => {
    const pts = [3n, 5n, 7n].map((s) => G1.BASE.multiply(s).double());
    expect(g1ToBytesBatch(pts)).toEqual(pts.map((p) => p.toBytes()));
  });
});

interface BlsRejects {
  parsePublicKey: { name: string; publicKey: string }[];
  verify: { name: string; signature: string }[];
}
const blsRejects: BlsRejects = JSON.parse(
  readFileSync(new URL('../../../vectors/bls/reject.json', import.meta.url), 'utf8'),
);

describe('point decoders (native = blst validation, portable = noble) agree', () => {
  const decoders = [nativePointDecoder, portablePointDecoder];

  it('valid points round-trip', () => {
    for (const s of [1n, 2n, R_ORDER - 1n, 0xdeadbeefn]) {
      const p1 = G1.BASE.multiply(s);
      const p2 = G2.BASE.multiply(s);
      for (const d of decoders) {
        expect(d.g1(p1.toBytes())!.equals(p1)).toBe(true);
        expect(d.g2(p2.toBytes())!.equals(p2)).toBe(true);
      }
    }
    for (const d of decoders) expect(d.g2(g2IdentityBytes())!.is0()).toBe(true);
  });

  it('every BLS public-key reject vector is refused as a G1 commitment', () => {
    for (const v of blsRejects.parsePublicKey) {
      for (const d of decoders)
        expect([d.name, v.name, d.g1(fromHex(v.publicKey))]).toEqual([d.name, v.name, undefined]);
    }
  });

  it('malformed signatures are refused as G2 points (same verdicts); valid points and the identity accepted', () => {
    for (const v of blsRejects.verify) {
      const bytes = fromHex(v.signature);
      const malformed = [
        'not-in-subgroup',
        'uncompressed-flag',
        'uncompressed-192-bytes',
        '95-bytes',
        '97-bytes',
      ];
      const [a, b] = decoders.map((d) => d.g2(bytes));
      expect([v.name, a === undefined]).toEqual([v.name, b === undefined]);
      if (a && b) expect(a.equals(b)).toBe(true);
      if (malformed.includes(v.name)) expect([v.name, a]).toEqual([v.name, undefined]);
      if (['negated', 'wrong-message', 'wrong-key', 'infinity-signature'].includes(v.name))
        expect(a).toBeDefined();
    }
  });
});
