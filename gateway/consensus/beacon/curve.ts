/**
 * BLS12-381 arithmetic the beacon needs beyond sign/verify: scalars of Fr, polynomials, Lagrange
 * coefficients, Feldman commitments in G1 and Lagrange interpolation of signatures in G2.
 *
 * Point decoding is the hot spot (a dealing carries t compressed G1 points; noble spends ~1 ms per point on
 * the square root and the subgroup check, measured). Every node must accept exactly the same encodings, so
 * decoding goes through ONE rule: a 48-byte (G1) / 96-byte (G2) compressed ZCash encoding of a point of the
 * r-order subgroup, canonical (coordinates < p, flags consistent). The default decoder validates with blst
 * (PublicKey/Signature.fromBytes with the group check, ~0.06 ms) and rebuilds the noble point from blst's
 * uncompressed bytes, skipping noble's own checks; `portablePointDecoder` does the same with noble alone.
 * test/unit/gateway/beacon/vectors.test.ts runs every must-reject vector through both.
 */
import { PublicKey, Signature } from '@chainsafe/blst';
import { normalizeZ, pippenger } from '@noble/curves/abstract/curve.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';

export const Fr = bls12_381.fields.Fr;
export const G1 = bls12_381.G1.Point;
export const G2 = bls12_381.G2.Point;
export type G1Point = typeof G1.BASE;
export type G2Point = typeof G2.BASE;

/** r, the order of G1 and G2. */
export const R_ORDER: bigint = Fr.ORDER;
export const G1_BYTES = 48;
export const G2_BYTES = 96;
export const SCALAR_BYTES = 32;

const P_MASK = (1n << 381n) - 1n;

/** 32-byte big-endian encoding of a scalar in [0, r) (the BLS secret-key convention). */
export function scalarToBytes(s: bigint): Uint8Array {
  return numberToBytesBE(s, SCALAR_BYTES);
}

/** Scalar of a 32-byte big-endian string; undefined unless it is < r. */
export function scalarFromBytes(bytes: Uint8Array): bigint | undefined {
  if (bytes.length !== SCALAR_BYTES) return undefined;
  const s = bytesToNumberBE(bytes);
  return s < R_ORDER ? s : undefined;
}

// ------------------------------------------------------------------------------------------- polynomials

/** f(x) = Σ coeffs[j]·x^j mod r (Horner). */
export function evalPoly(coeffs: readonly bigint[], x: bigint): bigint {
  let acc = 0n;
  for (let j = coeffs.length - 1; j >= 0; j--) acc = Fr.add(Fr.mul(acc, x), coeffs[j]!);
  return acc;
}

/** [1, x, x^2, ..., x^(t-1)] mod r. */
export function powers(x: bigint, t: number): bigint[] {
  const out = new Array<bigint>(t);
  let p = 1n;
  for (let j = 0; j < t; j++) {
    out[j] = p;
    p = Fr.mul(p, x);
  }
  return out;
}

/**
 * Lagrange coefficients at 0 for distinct nonzero indexes x_i (< r): λ_i = Π_{j≠i} x_j / (x_j − x_i).
 * One batched inversion for all denominators.
 */
export function lagrangeAtZero(indexes: readonly bigint[]): bigint[] {
  const k = indexes.length;
  const nums: bigint[] = [];
  const dens: bigint[] = [];
  for (let i = 0; i < k; i++) {
    let num = 1n;
    let den = 1n;
    const xi = indexes[i]!;
    for (let j = 0; j < k; j++) {
      if (j === i) continue;
      const xj = indexes[j]!;
      num = Fr.mul(num, xj);
      den = Fr.mul(den, Fr.sub(xj, xi));
    }
    if (den === 0n) throw new RangeError('lagrangeAtZero: indexes must be distinct');
    nums.push(num);
    dens.push(den);
  }
  const inv = Fr.invertBatch(dens);
  return nums.map((n, i) => Fr.mul(n, inv[i]!));
}

/** Σ λ_i·y_i over Fr: the secret at 0 from points (x_i, y_i). */
export function interpolateAtZero(points: readonly { x: bigint; y: bigint }[]): bigint {
  const l = lagrangeAtZero(points.map((p) => p.x));
  let acc = 0n;
  points.forEach((p, i) => {
    acc = Fr.add(acc, Fr.mul(l[i]!, p.y));
  });
  return acc;
}

// --------------------------------------------------------------------------------------- group helpers

/** g1·s for a public or secret scalar s in [0, r); the identity for 0. */
export function g1Base(s: bigint): G1Point {
  return s === 0n ? G1.ZERO : G1.BASE.multiply(s);
}

/** Σ scalars[i]·points[i] (Pippenger). Public inputs only: not constant time. */
export function msmG1(points: readonly G1Point[], scalars: readonly bigint[]): G1Point {
  return pippenger(G1, points as G1Point[], scalars as bigint[]);
}

export function msmG2(points: readonly G2Point[], scalars: readonly bigint[]): G2Point {
  return pippenger(G2, points as G2Point[], scalars as bigint[]);
}

/**
 * Σ_j C_j·x^j for a small index x (≤ 65535) by Horner: t multiplications by a 16-bit scalar, each ~12x
 * cheaper than a full-size one (measured 0.11 ms vs 1.2 ms in G1), so ~5x cheaper than an MSM of C with
 * the powers of x as scalars.
 */
export function evalCommitment(commitments: readonly G1Point[], x: number): G1Point {
  const bx = BigInt(x);
  let acc = G1.ZERO;
  for (let j = commitments.length - 1; j >= 0; j--) {
    acc = acc.is0() ? commitments[j]! : acc.multiplyUnsafe(bx).add(commitments[j]!);
  }
  return acc;
}

/**
 * Compressed encodings of many G1 points with ONE field inversion (normalizeZ): toBytes() alone inverts Z
 * per point, ~1.5 ms each in BigInt arithmetic (measured), which dominated dealing creation.
 */
export function g1ToBytesBatch(points: readonly G1Point[]): Uint8Array[] {
  return normalizeZ(G1, [...points]).map((p) => p.toBytes());
}

// --------------------------------------------------------------------------------------------- decoding

export interface PointDecoder {
  readonly name: string;
  /** A non-identity point of the r-order subgroup of G1, 48-byte compressed; undefined otherwise. */
  g1(bytes: Uint8Array): G1Point | undefined;
  /** A point of the r-order subgroup of G2 (the identity allowed), 96-byte compressed; undefined otherwise. */
  g2(bytes: Uint8Array): G2Point | undefined;
}

const IDENTITY_G2 = new Uint8Array(G2_BYTES);
IDENTITY_G2[0] = 0xc0;

/** The compressed encoding of the G2 identity (the partial signature of a zero share). */
export function g2IdentityBytes(): Uint8Array {
  return IDENTITY_G2.slice();
}

function isG2IdentityEncoding(bytes: Uint8Array): boolean {
  if (bytes[0] !== 0xc0) return false;
  for (let i = 1; i < bytes.length; i++) if (bytes[i] !== 0) return false;
  return true;
}

export const portablePointDecoder: PointDecoder = {
  name: 'portable',
  g1(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== G1_BYTES) return undefined;
    try {
      const p = G1.fromBytes(bytes); // curve equation, canonical coordinates and flags, subgroup
      p.assertValidity();
      if (p.is0() || !p.isTorsionFree()) return undefined;
      return p;
    } catch {
      return undefined;
    }
  },
  g2(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== G2_BYTES) return undefined;
    try {
      const p = G2.fromBytes(bytes);
      p.assertValidity();
      if (!p.isTorsionFree()) return undefined;
      return p;
    } catch {
      return undefined;
    }
  },
};

/** BE coordinate of 48 bytes at `off` (uncompressed blst output: flags are zero for a finite point). */
function coord(b: Uint8Array, off: number): bigint {
  return bytesToNumberBE(b.subarray(off, off + 48)) & P_MASK;
}

export const nativePointDecoder: PointDecoder = {
  name: 'native',
  g1(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== G1_BYTES) return undefined;
    // Compressed flag must be set: blst would take a 48-byte string without it as... nothing (it needs 96
    // bytes uncompressed), but the rule is stated here rather than inherited.
    if ((bytes[0]! & 0x80) === 0) return undefined;
    try {
      const pk = PublicKey.fromBytes(bytes, true); // infinity and subgroup checked
      const u = pk.toBytes(false);
      return G1.fromAffine({ x: coord(u, 0), y: coord(u, 48) });
    } catch {
      return undefined;
    }
  },
  g2(bytes) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== G2_BYTES) return undefined;
    if ((bytes[0]! & 0x80) === 0) return undefined;
    if (isG2IdentityEncoding(bytes)) return G2.ZERO;
    try {
      const sig = Signature.fromBytes(bytes, true); // subgroup checked
      const u = sig.toBytes(false);
      // ZCash order: x.c1 || x.c0 || y.c1 || y.c0.
      return G2.fromAffine({
        x: { c0: coord(u, 48), c1: coord(u, 0) },
        y: { c0: coord(u, 144), c1: coord(u, 96) },
      });
    } catch {
      return undefined;
    }
  },
};

let decoder: PointDecoder = nativePointDecoder;

/** The decoder every beacon function uses (native by default). */
export function pointDecoder(): PointDecoder {
  return decoder;
}

/** Tests and tools only: every node of a network must use decoders that accept the same bytes. */
export function setPointDecoder(d: PointDecoder): void {
  decoder = d;
}
