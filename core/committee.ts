/**
 * Committees and their collective signatures.
 *
 * A committee is the weighted set of validators that signs a shard's blocks and state blocks for one
 * epoch. Members are identified by their BLS public key (unique per validator, enforced at registration)
 * and listed in strictly increasing byte order, so a committee has exactly one encoding and the signer
 * bitmap's bit i always means the same member. Weights are integer believability scores (docs/consensus.md).
 * The league (the believable proposers) is the `leagueSize` heaviest members, ties broken by lower index:
 * derivable, so a light client can check that a block's proposer was in the league.
 *
 * A collective signature is [signers bitmap, BLS aggregate]: bit i (MSB-first within each byte) set iff
 * member i signed; ceil(n/8) bytes, padding bits zero. It is valid iff the signers' weight is more than
 * 2/3 of the committee's total and the aggregate verifies for the signers' keys (FastAggregateVerify).
 */

import { compareBytes } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import type { BlsPublicKey, Crypto } from './crypto.js';
import { invalidValue, VerifyError } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import { BLS_PUBLIC_KEY_BYTES, BLS_SIGNATURE_BYTES, MAX_CHAIN_ID_BYTES } from './identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';

export const MAX_COMMITTEE_SIZE = 1024;
export const MAX_COMMITTEE_BYTES = 64 * 1024;

export interface CommitteeMember {
  readonly blsPublicKey: Uint8Array;
  readonly weight: number;
}

export interface Committee {
  readonly chainId: string;
  readonly shard: number;
  readonly epoch: number;
  readonly leagueSize: number;
  readonly members: readonly CommitteeMember[];
}

export interface CollectiveSignature {
  /** Signer bitmap over the committee's members. */
  readonly signers: Uint8Array;
  /** 96-byte BLS aggregate of the signers' signatures. */
  readonly signature: Uint8Array;
}

// ---- bitmap ----

export function bitmapLength(memberCount: number): number {
  return (memberCount + 7) >> 3;
}

export function bitmapHas(bitmap: Uint8Array, i: number): boolean {
  return ((bitmap[i >> 3]! >> (7 - (i & 7))) & 1) === 1;
}

export function makeBitmap(memberCount: number, signers: Iterable<number>): Uint8Array {
  const out = new Uint8Array(bitmapLength(memberCount));
  for (const i of signers) {
    if (!Number.isInteger(i) || i < 0 || i >= memberCount)
      throw new RangeError(`signer index ${i} out of range`);
    out[i >> 3]! |= 1 << (7 - (i & 7));
  }
  return out;
}

/** Indexes of set bits; throws VERIFY_BITMAP_MISMATCH if the length or padding is wrong for n members. */
export function bitmapIndexes(bitmap: Uint8Array, memberCount: number): number[] {
  if (bitmap.length !== bitmapLength(memberCount)) {
    throw new VerifyError(
      'VERIFY_BITMAP_MISMATCH',
      `signer bitmap has ${bitmap.length} bytes for ${memberCount} members`,
      {
        expected: bitmapLength(memberCount),
        got: bitmap.length,
      },
    );
  }
  const out: number[] = [];
  for (let i = 0; i < bitmap.length * 8; i++) {
    if (!bitmapHas(bitmap, i)) continue;
    if (i >= memberCount) {
      throw new VerifyError('VERIFY_BITMAP_MISMATCH', 'signer bitmap has padding bits set', { index: i });
    }
    out.push(i);
  }
  return out;
}

// ---- committee encoding ----

export function writeCommittee(w: CborWriter, c: Committee): void {
  writeEnvelope(w, ObjectType.committee, 5);
  w.text(c.chainId).uint(c.shard).uint(c.epoch).uint(c.leagueSize);
  w.array(c.members.length);
  for (const m of c.members) w.array(2).bytes(m.blsPublicKey).uint(m.weight);
}

export function encodeCommittee(c: Committee): Uint8Array {
  const w = new CborWriter(64 + c.members.length * 56);
  writeCommittee(w, c);
  return w.finish();
}

export function readCommittee(r: CborReader): Committee {
  readEnvelope(r, ObjectType.committee, 5);
  const chainId = r.text('committee.chainId', MAX_CHAIN_ID_BYTES);
  const shard = r.uint('committee.shard', 0xffff);
  const epoch = r.uint('committee.epoch');
  const leagueSize = r.uint('committee.leagueSize');
  const n = r.array('committee.members', { min: 1, max: MAX_COMMITTEE_SIZE });
  const members: CommitteeMember[] = [];
  let total = 0;
  for (let i = 0; i < n; i++) {
    r.array(`committee.members[${i}]`, 2);
    const blsPublicKey = r.bytesField(`committee.members[${i}].blsPublicKey`, BLS_PUBLIC_KEY_BYTES);
    const weight = r.uint(`committee.members[${i}].weight`);
    if (weight < 1) invalidValue(`committee.members[${i}].weight`, 'weight must be at least 1');
    total += weight;
    if (!Number.isSafeInteger(total)) invalidValue('committee.members', 'total weight exceeds 2^53');
    const prev = members[i - 1];
    if (prev && compareBytes(prev.blsPublicKey, blsPublicKey) >= 0) {
      invalidValue(`committee.members[${i}]`, 'members must be in strictly increasing key order');
    }
    members.push({ blsPublicKey, weight });
  }
  if (leagueSize < 1 || leagueSize > n) invalidValue('committee.leagueSize', `must be within 1..${n}`);
  return { chainId, shard, epoch, leagueSize, members };
}

export function decodeCommittee(bytes: Uint8Array): Committee {
  assertMaxSize(bytes, MAX_COMMITTEE_BYTES, 'committee');
  const r = new CborReader(bytes);
  const c = readCommittee(r);
  r.end('committee');
  return c;
}

export function committeeHash(crypto: Crypto, c: Committee): Uint8Array {
  return taggedHash(crypto, DomainTag.committee, encodeCommittee(c));
}

/** Sorts members into canonical order (by BLS key); use when building a committee. */
export function sortMembers(members: readonly CommitteeMember[]): CommitteeMember[] {
  return [...members].sort((a, b) => compareBytes(a.blsPublicKey, b.blsPublicKey));
}

/** Indexes of the league: the leagueSize heaviest members, ties broken by lower index. */
export function leagueIndexes(c: Committee): number[] {
  return c.members
    .map((m, i) => ({ w: m.weight, i }))
    .sort((a, b) => b.w - a.w || a.i - b.i)
    .slice(0, c.leagueSize)
    .map((x) => x.i)
    .sort((a, b) => a - b);
}

// ---- prepared committee and collective signatures ----

/** A committee with its keys parsed once (parsing 64 keys costs more than one aggregate verify). */
export interface PreparedCommittee {
  readonly committee: Committee;
  readonly hash: Uint8Array;
  readonly keys: readonly BlsPublicKey[];
  readonly totalWeight: number;
  readonly league: ReadonlySet<number>;
}

export function prepareCommittee(crypto: Crypto, committee: Committee): PreparedCommittee {
  const keys: BlsPublicKey[] = [];
  let totalWeight = 0;
  committee.members.forEach((m, i) => {
    const k = crypto.bls.parsePublicKey(m.blsPublicKey);
    if (!k) {
      throw new VerifyError('VERIFY_INVALID_FIELD', `committee member ${i} has an invalid BLS public key`, {
        field: `committee.members[${i}].blsPublicKey`,
      });
    }
    keys.push(k);
    totalWeight += m.weight;
  });
  return {
    committee,
    hash: committeeHash(crypto, committee),
    keys,
    totalWeight,
    league: new Set(leagueIndexes(committee)),
  };
}

/** True iff signedWeight is strictly more than two thirds of totalWeight (integer arithmetic). */
export function hasSupermajority(signedWeight: number, totalWeight: number): boolean {
  // BigInt: 3 x weight passes 2^53 for large weights and the float product would round.
  return BigInt(signedWeight) * 3n > BigInt(totalWeight) * 2n;
}

/**
 * Checks a collective signature on `message` by more than 2/3 of the committee's weight.
 * Returns the signers' indexes and weight; throws VerifyError otherwise.
 */
export function verifyCollectiveSignature(
  crypto: Crypto,
  committee: PreparedCommittee,
  message: Uint8Array,
  cs: CollectiveSignature,
): { signers: number[]; signedWeight: number } {
  const members = committee.committee.members;
  const signers = bitmapIndexes(cs.signers, members.length);
  let signedWeight = 0;
  for (const i of signers) signedWeight += members[i]!.weight;
  if (!hasSupermajority(signedWeight, committee.totalWeight)) {
    throw new VerifyError(
      'VERIFY_INSUFFICIENT_WEIGHT',
      `signed weight ${signedWeight} of ${committee.totalWeight} is not above 2/3`,
      {
        signedWeight,
        totalWeight: committee.totalWeight,
      },
    );
  }
  const keys = signers.map((i) => committee.keys[i]!);
  if (!crypto.bls.verifyAggregate(cs.signature, message, keys)) {
    throw new VerifyError('VERIFY_BAD_SIGNATURE', 'collective signature does not verify', {});
  }
  return { signers, signedWeight };
}

export function writeCollectiveSignature(w: CborWriter, cs: CollectiveSignature): void {
  w.array(2).bytes(cs.signers).bytes(cs.signature);
}

export function readCollectiveSignature(r: CborReader, field: string): CollectiveSignature {
  r.array(field, 2);
  const signers = r.bytesField(`${field}.signers`, { min: 1, max: bitmapLength(MAX_COMMITTEE_SIZE) });
  const signature = r.bytesField(`${field}.signature`, BLS_SIGNATURE_BYTES);
  return { signers, signature };
}
