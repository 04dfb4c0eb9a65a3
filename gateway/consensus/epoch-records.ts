/**
 * Per-epoch consensus records in the shard state (docs/consensus.md §3; layouts in docs/protocol.md §9),
 * each under id = u64be(epoch):
 *   committee        the Committee object of the epoch (core/committee.ts)
 *   beacon           [1, groupSignature bytes96 | null, seed bytes32]   null = fallback seed (DKG failed)
 *   epochCandidates  [1, [[blsPublicKey bytes48, weight u64], ...]]       eligible set frozen for that epoch
 * Being in the state, they are covered by state roots and state blocks like every other record.
 */
import { CborReader, CborWriter } from '../../core/cbor.js';
import { type Committee, decodeCommittee, encodeCommittee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { invalidValue } from '../../core/errors.js';
import { DomainTag, taggedHash } from '../../core/hash.js';
import { BLS_PUBLIC_KEY_BYTES, BLS_SIGNATURE_BYTES, HASH_BYTES } from '../../core/identity.js';
import type { StateReader, StateWriter } from '../state/interface.js';
import { epochKey } from './epochs.js';
import type { Candidate } from './selection.js';

export function readCommitteeRecord(state: StateReader, epoch: number): Committee | undefined {
  const bytes = state.getRecord('committee', epochKey(epoch));
  return bytes ? decodeCommittee(bytes) : undefined;
}

export function writeCommitteeRecord(state: StateWriter, committee: Committee): void {
  state.putRecord('committee', epochKey(committee.epoch), encodeCommittee(committee));
}

export interface BeaconRecord {
  /** The committee's threshold signature, or null when the epoch used the fallback seed. */
  readonly groupSignature: Uint8Array | null;
  readonly seed: Uint8Array;
}

export function encodeBeaconRecord(b: BeaconRecord): Uint8Array {
  const w = new CborWriter(160).array(3).uint(1);
  if (b.groupSignature) w.bytes(b.groupSignature);
  else w.null();
  return w.bytes(b.seed).finish();
}

export function decodeBeaconRecord(bytes: Uint8Array): BeaconRecord {
  const r = new CborReader(bytes);
  r.array('beacon', 3);
  if (r.uint('beacon.version') !== 1) invalidValue('beacon.version', 'unknown version');
  const groupSignature = r.nullIf() ? null : r.bytesField('beacon.groupSignature', BLS_SIGNATURE_BYTES);
  const seed = r.bytesField('beacon.seed', HASH_BYTES);
  r.end('beacon');
  return { groupSignature, seed };
}

export function readSeed(state: StateReader, epoch: number): Uint8Array | undefined {
  const bytes = state.getRecord('beacon', epochKey(epoch));
  return bytes ? decodeBeaconRecord(bytes).seed : undefined;
}

export function writeBeaconRecord(state: StateWriter, epoch: number, b: BeaconRecord): void {
  state.putRecord('beacon', epochKey(epoch), encodeBeaconRecord(b));
}

/** The seed that orders proposers in `epoch`: seed_{epoch−2}, seed_0 for the first two epochs. */
export function proposerSeed(state: StateReader, epoch: number): Uint8Array {
  const seed = readSeed(state, Math.max(0, epoch - 2));
  if (!seed) throw new RangeError(`no seed recorded for epoch ${Math.max(0, epoch - 2)}`);
  return seed;
}

export function genesisSeed(crypto: Crypto, genesisHash: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.seed, genesisHash);
}

/** seed_e when the beacon of epoch e did not land: predictable, and flagged (docs/consensus.md §3.2). */
export function fallbackSeed(crypto: Crypto, previous: Uint8Array, epoch: number): Uint8Array {
  return taggedHash(crypto, 'iosnet/seed-fallback/v1', previous, epochKey(epoch));
}

export function encodeCandidates(candidates: readonly Candidate[]): Uint8Array {
  const w = new CborWriter(64 + candidates.length * 60).array(2).uint(1).array(candidates.length);
  for (const c of candidates) w.array(2).bytes(c.blsPublicKey).uint(c.weight);
  return w.finish();
}

export function decodeCandidates(bytes: Uint8Array): Candidate[] {
  const r = new CborReader(bytes);
  r.array('candidates', 2);
  if (r.uint('candidates.version') !== 1) invalidValue('candidates.version', 'unknown version');
  const n = r.array('candidates.list', { max: 100_000 });
  const out: Candidate[] = [];
  for (let i = 0; i < n; i++) {
    r.array(`candidates[${i}]`, 2);
    out.push({
      blsPublicKey: r.bytesField(`candidates[${i}].blsPublicKey`, BLS_PUBLIC_KEY_BYTES),
      weight: r.u64(`candidates[${i}].weight`),
    });
  }
  r.end('candidates');
  return out;
}

export function readCandidates(state: StateReader, epoch: number): Candidate[] | undefined {
  const bytes = state.getRecord('epochCandidates', epochKey(epoch));
  return bytes ? decodeCandidates(bytes) : undefined;
}

export function writeCandidates(state: StateWriter, epoch: number, candidates: readonly Candidate[]): void {
  state.putRecord('epochCandidates', epochKey(epoch), encodeCandidates(candidates));
}
