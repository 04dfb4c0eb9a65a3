/**
 * The proof objects gateways hand to light clients (docs/protocol.md §12).
 *
 * StateProof       = [1, 16, namespace, id, record, SmtProof]
 *   record is null (absent) or the record object's exact bytes, so the verifier hashes what it was given
 *   (H("iosnet/state-value/v1", record)) and new record kinds need no new proof format.
 * TxInclusionProof = [1, 17, BlockHeader, MerkleProof, FinalityCertificate | null]
 *   with a certificate the transaction is grade 2 (final), without it grade 1.
 */
import { CborReader, CborWriter } from './cbor.js';
import { invalidValue } from './errors.js';
import {
  type BlockHeader,
  type FinalityCertificate,
  readBlockHeader,
  readFinalityCertificate,
  writeBlockHeader,
  writeFinalityCertificate,
} from './header.js';
import { type MerkleProof, readMerkleProof, writeMerkleProof } from './merkle.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';
import { readSmtProof, type SmtProof, writeSmtProof } from './smt.js';
import { MAX_RECORD_BYTES, StateNamespace, type StateNamespaceName } from './state.js';

export const MAX_STATE_PROOF_BYTES = 4096;
export const MAX_TX_INCLUSION_PROOF_BYTES = 4096;
const NAMESPACE_NAMES = Object.keys(StateNamespace) as StateNamespaceName[];

export interface StateProof {
  readonly namespace: StateNamespaceName;
  readonly id: Uint8Array;
  /** The record object's bytes, or null when the proof shows the key is absent. */
  readonly record: Uint8Array | null;
  readonly proof: SmtProof;
}

export interface TxInclusionProof {
  readonly header: BlockHeader;
  readonly proof: MerkleProof;
  readonly certificate: FinalityCertificate | null;
}

/** The namespace code of a StateNamespace name, or undefined (for codecs that carry one). */
export function namespaceOfCode(code: number): StateNamespaceName | undefined {
  return NAMESPACE_NAMES[code - 1];
}

export function writeStateProof(w: CborWriter, p: StateProof): void {
  writeEnvelope(w, ObjectType.stateProof, 4);
  w.uint(StateNamespace[p.namespace]).bytes(p.id);
  if (p.record) w.bytes(p.record);
  else w.null();
  writeSmtProof(w, p.proof);
}

export function encodeStateProof(p: StateProof): Uint8Array {
  const w = new CborWriter(1024);
  writeStateProof(w, p);
  return w.finish();
}

export function readStateProof(r: CborReader): StateProof {
  readEnvelope(r, ObjectType.stateProof, 4);
  const code = r.uint('stateProof.namespace', 255);
  const namespace = NAMESPACE_NAMES[code - 1];
  if (!namespace) invalidValue('stateProof.namespace', `unknown namespace ${code}`);
  const id = r.bytesField('stateProof.id', { min: 1, max: 64 });
  const record = r.nullIf() ? null : r.bytesField('stateProof.record', { min: 1, max: MAX_RECORD_BYTES });
  const proof = readSmtProof(r);
  return { namespace, id, record, proof };
}

export function decodeStateProof(bytes: Uint8Array): StateProof {
  assertMaxSize(bytes, MAX_STATE_PROOF_BYTES, 'stateProof');
  const r = new CborReader(bytes);
  const p = readStateProof(r);
  r.end('stateProof');
  return p;
}

export function writeTxInclusionProof(w: CborWriter, p: TxInclusionProof): void {
  writeEnvelope(w, ObjectType.txInclusionProof, 3);
  writeBlockHeader(w, p.header);
  writeMerkleProof(w, p.proof);
  if (p.certificate) writeFinalityCertificate(w, p.certificate);
  else w.null();
}

export function encodeTxInclusionProof(p: TxInclusionProof): Uint8Array {
  const w = new CborWriter(1024);
  writeTxInclusionProof(w, p);
  return w.finish();
}

export function readTxInclusionProof(r: CborReader): TxInclusionProof {
  readEnvelope(r, ObjectType.txInclusionProof, 3);
  const { header } = readBlockHeader(r);
  const proof = readMerkleProof(r);
  const certificate = r.nullIf() ? null : readFinalityCertificate(r);
  return { header, proof, certificate };
}

export function decodeTxInclusionProof(bytes: Uint8Array): TxInclusionProof {
  assertMaxSize(bytes, MAX_TX_INCLUSION_PROOF_BYTES, 'txInclusionProof');
  const r = new CborReader(bytes);
  const p = readTxInclusionProof(r);
  r.end('txInclusionProof');
  return p;
}
