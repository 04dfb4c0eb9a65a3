/**
 * Threshold BLS for the beacon (docs/consensus.md §3.1, docs/beacon.md §5): partial signatures with share
 * scalars, their verification against the group commitments, Lagrange combination in G2, and the seed.
 *
 * A share is a BLS secret key like any other, so partials are made by the node's BLS backend (blst on a
 * gateway, noble on the portable one): σ_x = [s_x]H(m) with the ciphersuite's hash-to-G2. Any t valid
 * partials interpolate to [sk]H(m), the unique signature of the group key on m (uniqueness: [A3]); which t
 * were used makes no difference, which is what makes the seed unbiasable by whoever combines.
 */
import { concatBytes, u64be, utf8 } from '../../../core/bytes.js';
import { CborReader, CborWriter } from '../../../core/cbor.js';
import type { Crypto } from '../../../core/crypto.js';
import { ArgumentError, DecodeError, invalidValue, VerifyError } from '../../../core/errors.js';
import { DomainTag, taggedHash } from '../../../core/hash.js';
import { BLS_SIGNATURE_BYTES } from '../../../core/identity.js';
import { assertMaxSize } from '../../../core/object.js';
import { shareIndexesOf } from './allocation.js';
import { type BeaconContext, prepareContext } from './context.js';
import {
  type G1Point,
  G2_BYTES,
  type G2Point,
  g2IdentityBytes,
  lagrangeAtZero,
  msmG2,
  pointDecoder,
  R_ORDER,
  scalarToBytes,
} from './curve.js';
import type { Share } from './dealing.js';
import { u16be } from './edwards.js';
import { publicShareKey } from './qualify.js';

export interface PartialSignature {
  readonly index: number;
  /** 96-byte compressed G2 point. */
  readonly signature: Uint8Array;
}

/** m_e = H("iosnet/beacon/v1", utf8(chainId) || u16be(shard) || u64be(epoch)). */
export function beaconMessage(crypto: Crypto, chainId: string, shard: number, epoch: number): Uint8Array {
  return taggedHash(crypto, DomainTag.beacon, concatBytes(utf8(chainId), u16be(shard), u64be(epoch)));
}

/**
 * seed_e = H("iosnet/seed/v1", groupSignature). Call it only on a signature that verified: the 96 bytes are
 * then the canonical compressed encoding (both backends refuse any other encoding of the point), so the
 * seed is a function of the unique signature, not of how it was written.
 */
export function beaconSeed(crypto: Crypto, groupSignature: Uint8Array): Uint8Array {
  if (!(groupSignature instanceof Uint8Array) || groupSignature.length !== BLS_SIGNATURE_BYTES) {
    throw new ArgumentError('groupSignature', 'expected 96 bytes');
  }
  return taggedHash(crypto, DomainTag.seed, groupSignature);
}

/** Partial signatures of `message` with each share (a zero share signs as the G2 identity). */
export function partialSign(
  crypto: Crypto,
  shares: readonly Share[],
  message: Uint8Array,
): PartialSignature[] {
  return shares.map((s) => {
    if (typeof s.value !== 'bigint' || s.value < 0n || s.value >= R_ORDER) {
      throw new ArgumentError('shares', `share ${s.index} is not a scalar in [0, r)`);
    }
    // The backends refuse 0 as a secret key (it is not one); 0·H(m) is the identity, and its public share
    // key is the identity too, so verifyPartial accepts exactly this encoding for it.
    const signature = s.value === 0n ? g2IdentityBytes() : crypto.bls.sign(message, scalarToBytes(s.value));
    return { index: s.index, signature };
  });
}

/** Checks σ_x against the share's public key Σ_j A_j x^j with the backend's BLS verify. */
export function verifyPartial(
  crypto: Crypto,
  groupCommitments: readonly G1Point[],
  shareIndex: number,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (!Number.isInteger(shareIndex) || shareIndex < 1 || shareIndex > 0xffff) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== G2_BYTES) return false;
  const pk = publicShareKey(groupCommitments, shareIndex);
  if (pk.is0()) return equalIdentity(signature);
  const key = crypto.bls.parsePublicKey(pk.toBytes());
  return key !== undefined && crypto.bls.verify(signature, message, key);
}

function equalIdentity(sig: Uint8Array): boolean {
  const id = g2IdentityBytes();
  return sig.every((b, i) => b === id[i]);
}

/**
 * Lagrange interpolation at 0 in G2 of the partials of the t lowest distinct share indexes (any t give the
 * same point when all are valid). Does not verify: see combineVerified. Throws ArgumentError if fewer than
 * t distinct indexes are given, VerifyError if a used partial is not a valid G2 subgroup point.
 */
export function combine(partials: readonly PartialSignature[], threshold: number): Uint8Array {
  const byIndex = new Map<number, Uint8Array>();
  for (const p of partials) {
    if (!Number.isInteger(p.index) || p.index < 1 || p.index > 0xffff) {
      throw new ArgumentError('partials', `bad share index ${p.index}`);
    }
    if (!byIndex.has(p.index)) byIndex.set(p.index, p.signature);
  }
  if (!Number.isInteger(threshold) || threshold < 1) throw new ArgumentError('threshold', 'expected >= 1');
  if (byIndex.size < threshold) {
    throw new ArgumentError('partials', `${byIndex.size} distinct share indexes, need ${threshold}`);
  }
  const chosen = [...byIndex.keys()].sort((a, b) => a - b).slice(0, threshold);
  const points: G2Point[] = chosen.map((x) => {
    const p = pointDecoder().g2(byIndex.get(x)!);
    if (!p) {
      throw new VerifyError('VERIFY_BAD_SIGNATURE', `partial ${x} is not a G2 subgroup point`, { index: x });
    }
    return p;
  });
  const lambdas = lagrangeAtZero(chosen.map(BigInt));
  return msmG2(points, lambdas).toBytes();
}

export interface CombineResult {
  readonly signature: Uint8Array;
  /** Share indexes whose partials failed verification (only checked if the optimistic combine failed). */
  readonly rejected: readonly number[];
}

/**
 * Optimistic combination: interpolate t partials and verify once against the group key (one BLS verify);
 * only if that fails, verify every partial, drop the bad ones and interpolate the good ones. Throws
 * VerifyError('VERIFY_INSUFFICIENT_WEIGHT') if fewer than t valid partials remain.
 */
export function combineVerified(
  crypto: Crypto,
  groupCommitments: readonly G1Point[],
  message: Uint8Array,
  partials: readonly PartialSignature[],
): CombineResult {
  const t = groupCommitments.length;
  const groupKey = crypto.bls.parsePublicKey(groupCommitments[0]!.toBytes());
  if (!groupKey) throw new ArgumentError('groupCommitments', 'group key is not a valid BLS public key');
  try {
    const sig = combine(partials, t);
    if (crypto.bls.verify(sig, message, groupKey)) return { signature: sig, rejected: [] };
  } catch (e) {
    if (!(e instanceof VerifyError)) throw e;
  }
  const good: PartialSignature[] = [];
  const rejected: number[] = [];
  const seen = new Set<number>();
  for (const p of partials) {
    if (seen.has(p.index)) continue;
    if (verifyPartial(crypto, groupCommitments, p.index, message, p.signature)) {
      good.push(p);
      seen.add(p.index);
    } else {
      rejected.push(p.index);
    }
  }
  if (good.length < t) {
    throw new VerifyError('VERIFY_INSUFFICIENT_WEIGHT', `${good.length} valid partials, need ${t}`, {
      valid: good.length,
      threshold: t,
    });
  }
  const sig = combine(good, t);
  if (!crypto.bls.verify(sig, message, groupKey)) {
    // Unreachable unless the group commitments are inconsistent with the group key.
    throw new VerifyError('VERIFY_BAD_SIGNATURE', 'combined signature does not verify', {});
  }
  return { signature: sig, rejected: [...new Set(rejected)].sort((a, b) => a - b) };
}

// --------------------------------------------------------------------- peer-network partial message

export const PARTIALS_VERSION = 1;

/**
 * PartialSignatures = [1, shard, epoch, memberIndex, signatures]: signatures = the member's k partials in
 * share-index order, concatenated (k × 96 bytes). Not signed: each partial verifies on its own.
 */
export function encodePartialSignatures(
  ctx: BeaconContext,
  memberIndex: number,
  partials: readonly PartialSignature[],
): Uint8Array {
  const { alloc } = prepareContext(ctx);
  const indexes = shareIndexesOf(alloc, memberIndex);
  if (
    indexes.length === 0 ||
    partials.length !== indexes.length ||
    partials.some((p, l) => p.index !== indexes[l])
  ) {
    throw new ArgumentError(
      'partials',
      `expected member ${memberIndex}'s ${indexes.length} partials in index order`,
    );
  }
  const w = new CborWriter(32 + indexes.length * G2_BYTES);
  w.array(5).uint(PARTIALS_VERSION).uint(ctx.shard).uint(ctx.epoch).uint(memberIndex);
  w.bytes(concatBytes(...partials.map((p) => p.signature)));
  return w.finish();
}

/** Structural decode against a context (signatures are checked by verifyPartial / combineVerified). */
export function decodePartialSignatures(
  ctx: BeaconContext,
  bytes: Uint8Array,
): { memberIndex: number; partials: PartialSignature[] } {
  const { alloc } = prepareContext(ctx);
  const maxK = Math.max(...alloc.counts);
  assertMaxSize(bytes, 32 + 5 + maxK * G2_BYTES, 'partialSignatures');
  const r = new CborReader(bytes);
  r.array('partialSignatures', 5);
  const version = r.uint('partialSignatures.version');
  if (version !== PARTIALS_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `partialSignatures: unknown version ${version}`, {
      field: 'partialSignatures.version',
      version,
    });
  }
  const shard = r.uint('partialSignatures.shard', 0xffff);
  if (shard !== ctx.shard) invalidValue('partialSignatures.shard', `shard ${shard}, expected ${ctx.shard}`);
  const epoch = r.uint('partialSignatures.epoch');
  if (epoch !== ctx.epoch) invalidValue('partialSignatures.epoch', `epoch ${epoch}, expected ${ctx.epoch}`);
  const memberIndex = r.uint('partialSignatures.memberIndex', ctx.members.length - 1);
  const indexes = shareIndexesOf(alloc, memberIndex);
  if (indexes.length === 0) invalidValue('partialSignatures.memberIndex', 'member holds no shares');
  const sigs = r.bytesField('partialSignatures.signatures', indexes.length * G2_BYTES);
  r.end('partialSignatures');
  return {
    memberIndex,
    partials: indexes.map((index, l) => ({ index, signature: sigs.slice(l * G2_BYTES, (l + 1) * G2_BYTES) })),
  };
}
