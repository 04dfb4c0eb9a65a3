/**
 * Atomix cross-shard transactions (OmniLedger §4.3, client-driven): docs/protocol.md §Atomix.
 *
 * CrossShardTx = [salt bytes16, inputs, outputs], inputs/outputs = [[address, amount], ...] (1..8 each),
 * with sum(inputs) = sum(outputs) so a committed transfer moves value and never creates it.
 * crossTxId = H("iosnet/atomix/v1", CrossShardTx bytes).
 *   lock   (kind 9)  = [crossTx, inputIndex]: sent by the input's owner to the input's shard, which
 *                     records an AtomixLockRecord: accepted (funds moved to `locked`) or rejected.
 *   commit (kind 10) = [crossTx, [LockProof per input, in input order]] all accepted: output shards
 *                     credit, input shards release `locked` as spent.
 *   abort  (kind 11) = [crossTx, LockProof] one rejected: input shards that accepted unlock.
 * LockProof = [header, finalityCertificate, lockRecord, smtProof]: the record is in the state under the
 * header's stateRoot, and the header is final on the input's shard. Anyone holding the proofs can
 * submit commit/abort, so a client that vanishes cannot leave funds locked forever.
 */
import { type CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { invalidValue } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import {
  type BlockHeader,
  type FinalityCertificate,
  readBlockHeader,
  readFinalityCertificate,
  writeBlockHeader,
  writeFinalityCertificate,
} from './header.js';
import { HASH_BYTES } from './identity.js';
import { readSmtProof, type SmtProof, writeSmtProof } from './smt.js';
import { type AtomixLockRecord, readAtomixLockRecord, writeAtomixLockRecord } from './state.js';

export const MAX_CROSS_SHARD_PARTS = 8;
export const ATOMIX_SALT_BYTES = 16;

export interface CrossShardPart {
  readonly address: Uint8Array;
  readonly amount: bigint;
}

export interface CrossShardTx {
  readonly salt: Uint8Array;
  readonly inputs: readonly CrossShardPart[];
  readonly outputs: readonly CrossShardPart[];
}

export interface LockProof {
  readonly header: BlockHeader;
  readonly certificate: FinalityCertificate;
  readonly record: AtomixLockRecord;
  readonly proof: SmtProof;
}

export interface AtomixLock {
  readonly kind: 'atomixLock';
  readonly crossTx: CrossShardTx;
  readonly inputIndex: number;
}
export interface AtomixCommit {
  readonly kind: 'atomixCommit';
  readonly crossTx: CrossShardTx;
  readonly acceptances: readonly LockProof[];
}
export interface AtomixAbort {
  readonly kind: 'atomixAbort';
  readonly crossTx: CrossShardTx;
  readonly rejection: LockProof;
}
export type AtomixPayload = AtomixLock | AtomixCommit | AtomixAbort;

function writeParts(w: CborWriter, parts: readonly CrossShardPart[]): void {
  w.array(parts.length);
  for (const p of parts) w.array(2).bytes(p.address).uint(p.amount);
}

export function writeCrossShardTx(w: CborWriter, t: CrossShardTx): void {
  w.array(3).bytes(t.salt);
  writeParts(w, t.inputs);
  writeParts(w, t.outputs);
}

export function crossTxIdOf(crypto: Crypto, t: CrossShardTx): Uint8Array {
  const w = new CborWriter(256);
  writeCrossShardTx(w, t);
  return taggedHash(crypto, DomainTag.atomix, w.finish());
}

function readParts(r: CborReader, field: string): CrossShardPart[] {
  const n = r.array(field, { min: 1, max: MAX_CROSS_SHARD_PARTS });
  const parts: CrossShardPart[] = [];
  for (let i = 0; i < n; i++) {
    r.array(`${field}[${i}]`, 2);
    const address = r.bytesField(`${field}[${i}].address`, HASH_BYTES);
    const amount = r.u64(`${field}[${i}].amount`);
    if (amount === 0n) invalidValue(`${field}[${i}].amount`, 'must be positive');
    parts.push({ address, amount });
  }
  return parts;
}

export function readCrossShardTx(r: CborReader, field: string): CrossShardTx {
  r.array(field, 3);
  const salt = r.bytesField(`${field}.salt`, ATOMIX_SALT_BYTES);
  const inputs = readParts(r, `${field}.inputs`);
  const outputs = readParts(r, `${field}.outputs`);
  const sum = (ps: CrossShardPart[]) => ps.reduce((s, p) => s + p.amount, 0n);
  if (sum(inputs) !== sum(outputs)) invalidValue(field, 'inputs and outputs must carry the same total');
  return { salt, inputs, outputs };
}

function writeLockProof(w: CborWriter, p: LockProof): void {
  w.array(4);
  writeBlockHeader(w, p.header);
  writeFinalityCertificate(w, p.certificate);
  writeAtomixLockRecord(w, p.record);
  writeSmtProof(w, p.proof);
}

function readLockProof(r: CborReader, field: string): LockProof {
  r.array(field, 4);
  const { header } = readBlockHeader(r);
  const certificate = readFinalityCertificate(r);
  const record = readAtomixLockRecord(r);
  const proof = readSmtProof(r);
  return { header, certificate, record, proof };
}

export function writeAtomixPayload(w: CborWriter, p: AtomixPayload): void {
  switch (p.kind) {
    case 'atomixLock':
      w.array(2);
      writeCrossShardTx(w, p.crossTx);
      w.uint(p.inputIndex);
      return;
    case 'atomixCommit':
      w.array(2);
      writeCrossShardTx(w, p.crossTx);
      w.array(p.acceptances.length);
      for (const a of p.acceptances) writeLockProof(w, a);
      return;
    case 'atomixAbort':
      w.array(2);
      writeCrossShardTx(w, p.crossTx);
      writeLockProof(w, p.rejection);
  }
}

/** kind is 9, 10 or 11 (TxKind.atomixLock/Commit/Abort). */
export function readAtomixPayload(r: CborReader, kind: number): AtomixPayload {
  const f = 'tx.payload';
  r.array(f, 2);
  const crossTx = readCrossShardTx(r, `${f}.crossTx`);
  if (kind === 9) {
    const inputIndex = r.uint(`${f}.inputIndex`, crossTx.inputs.length - 1);
    return { kind: 'atomixLock', crossTx, inputIndex };
  }
  if (kind === 10) {
    r.array(`${f}.acceptances`, crossTx.inputs.length);
    const acceptances: LockProof[] = [];
    for (let i = 0; i < crossTx.inputs.length; i++)
      acceptances.push(readLockProof(r, `${f}.acceptances[${i}]`));
    return { kind: 'atomixCommit', crossTx, acceptances };
  }
  return { kind: 'atomixAbort', crossTx, rejection: readLockProof(r, `${f}.rejection`) };
}
