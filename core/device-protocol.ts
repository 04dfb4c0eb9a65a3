// STATUS: stable
/**
 * Device <-> gateway protocol over MQTT (docs/protocol.md §16 "Device protocol (MQTT)").
 *
 * Topics (chain id must be topic-safe: [A-Za-z0-9._-], checked by deviceTopics):
 *   iosnet/<chainId>/s/<shard>/sb         state block announcements (gateway -> all; retained)
 *   iosnet/<chainId>/d/<deviceHex>/req    requests (device -> gateway)
 *   iosnet/<chainId>/d/<deviceHex>/res    responses (gateway -> device)
 *   iosnet/<chainId>/auth/<deviceHex>     token enrolment, external brokers only (device -> gateway)
 *
 * Every message is a canonical CBOR positional array [version, kind, ...]; requests and responses carry
 * a request id (u32) right after the kind. Embedded objects (state blocks, committees, transactions,
 * proofs) are written in place, as their own canonical encodings, not wrapped in byte strings.
 *
 *   StateBlockAnnouncement [1, 1, StateBlock, id bytes32, Committee | null]
 *   GetStateBlocks         [1, 16, rid, fromIndex, limit, sparse bool]
 *   ProveRecord            [1, 17, rid, namespace, id bytes]
 *   SubmitTx               [1, 18, rid, Transaction]
 *   GetTxStatus            [1, 19, rid, txId bytes32]
 *   StateBlocks            [1, 32, rid, latestIndex, [[StateBlock, Committee | null], ...]]
 *   RecordProof            [1, 33, rid, StateBlock, StateProof]
 *   TxAccepted             [1, 34, rid, txId bytes32]
 *   TxStatus               [1, 35, rid, txId bytes32, status, TxInclusionProof | null]
 *   Error                  [1, 63, rid, code, detail text]
 *
 * MQTT auth token (the MQTT password, as lowercase hex of its CBOR; the username is the device hex):
 *   DeviceAuthToken = [1, chainId, deviceId bytes32, audience text, expiry uint (ms), nonce bytes16, sig bytes64]
 *   sig = Ed25519(device key, H("iosnet/device-auth/v1", cbor([chainId, deviceId, audience, expiry, nonce])))
 */
import { abytes, auint, equalBytes, toHex, utf8 } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import { type Committee, readCommittee, writeCommittee } from './committee.js';
import { ArgumentError, DecodeError, invalidValue } from './errors.js';
import { HASH_BYTES, MAX_CHAIN_ID_BYTES } from './identity.js';
import { assertMaxSize } from './object.js';
import {
  namespaceOfCode,
  readStateProof,
  readTxInclusionProof,
  type StateProof,
  type TxInclusionProof,
  writeStateProof,
  writeTxInclusionProof,
} from './proofs.js';
import { StateNamespace, type StateNamespaceName } from './state.js';
import { readStateBlock, type StateBlock, writeStateBlock } from './state-block.js';
import { MAX_TX_BYTES, readTx } from './tx.js';

export const DEVICE_PROTOCOL_VERSION = 1;

// ---- limits (docs/protocol.md §16.5) ----

/** A request: a transaction plus a few bytes of framing. */
export const MAX_DEVICE_REQUEST_BYTES = MAX_TX_BYTES + 64;
/** A response: one state block step with a committee of up to 1024 members fits (56 KB). */
export const MAX_DEVICE_RESPONSE_BYTES = 96 * 1024;
/** An announcement: a state block and, at a committee change, the next committee. */
export const MAX_ANNOUNCEMENT_BYTES = 96 * 1024;
/** Items a GetStateBlocks may ask for (the gateway may send fewer, see StateBlocks.latestIndex). */
export const MAX_STATE_BLOCK_STEPS = 64;
export const MAX_ERROR_DETAIL_BYTES = 256;
export const MAX_REQUEST_ID = 0xffffffff;

// ---- topics ----

const TOPIC_SAFE = /^[A-Za-z0-9._-]+$/;

export interface DeviceTopics {
  /** Retained state block announcements of one shard. */
  readonly announcements: string;
  readonly request: string;
  readonly response: string;
  /** External brokers only: where an anonymous client hands its token to the gateway. */
  readonly auth: string;
}

function checkChainId(chainId: string): void {
  if (typeof chainId !== 'string' || chainId.length > MAX_CHAIN_ID_BYTES || !TOPIC_SAFE.test(chainId)) {
    throw new ArgumentError('chainId', 'must be 1..32 characters of [A-Za-z0-9._-] to name MQTT topics');
  }
}

export function announcementTopic(chainId: string, shard: number): string {
  checkChainId(chainId);
  return `iosnet/${chainId}/s/${auint(shard, 'shard')}/sb`;
}

/** The topics of one device; deviceId is its 32-byte identity hash. */
export function deviceTopics(chainId: string, shard: number, deviceId: Uint8Array): DeviceTopics {
  checkChainId(chainId);
  const hex = toHex(abytes(deviceId, 'deviceId', HASH_BYTES));
  const base = `iosnet/${chainId}/d/${hex}`;
  return {
    announcements: announcementTopic(chainId, shard),
    request: `${base}/req`,
    response: `${base}/res`,
    auth: `iosnet/${chainId}/auth/${hex}`,
  };
}

const DEVICE_TOPIC = /^iosnet\/([A-Za-z0-9._-]+)\/(d|auth)\/([0-9a-f]{64})(?:\/(req|res))?$/;

/** Parses a per-device topic (req, res or auth); undefined for any other topic. */
export function parseDeviceTopic(
  topic: string,
): { chainId: string; deviceHex: string; kind: 'req' | 'res' | 'auth' } | undefined {
  const m = DEVICE_TOPIC.exec(topic);
  if (!m) return undefined;
  if (m[2] === 'auth') return m[4] ? undefined : { chainId: m[1]!, deviceHex: m[3]!, kind: 'auth' };
  if (!m[4]) return undefined;
  return { chainId: m[1]!, deviceHex: m[3]!, kind: m[4] as 'req' | 'res' };
}

// ---- message kinds and codes ----

export const DeviceMessageKind = {
  stateBlockAnnouncement: 1,
  getStateBlocks: 16,
  proveRecord: 17,
  submitTx: 18,
  getTxStatus: 19,
  stateBlocks: 32,
  recordProof: 33,
  txAccepted: 34,
  txStatus: 35,
  error: 63,
} as const;

export const TxStatusCode = { unknown: 0, pending: 1, grade1: 2, grade2: 3 } as const;
export type TxStatusName = keyof typeof TxStatusCode;
const TX_STATUS_NAMES = Object.keys(TxStatusCode) as TxStatusName[];

/** Error codes of an Error response (docs/protocol.md §16.3). `detail` names the typed cause. */
export const DeviceErrorCode = {
  badRequest: 1,
  unsupported: 2,
  rateLimited: 3,
  notFound: 4,
  notYetAvailable: 5,
  txRefused: 6,
  tooLarge: 7,
  unavailable: 8,
} as const;
export type DeviceErrorName = keyof typeof DeviceErrorCode;
const ERROR_NAMES = new Map<number, DeviceErrorName>(
  (Object.entries(DeviceErrorCode) as [DeviceErrorName, number][]).map(([k, v]) => [v, k]),
);

// ---- message types ----

export interface StateBlockAnnouncement {
  readonly kind: 'stateBlockAnnouncement';
  readonly stateBlock: StateBlock;
  /** The state block's id as the gateway computed it: receivers recompute and compare. */
  readonly id: Uint8Array;
  /** At a committee change (committee != nextCommittee): the next committee, else null. */
  readonly nextCommittee: Committee | null;
}

export interface GetStateBlocks {
  readonly kind: 'getStateBlocks';
  readonly requestId: number;
  readonly fromIndex: number;
  readonly limit: number;
  /** Only committee changes in the range plus the latest state block (what a light client needs). */
  readonly sparse: boolean;
}

export interface ProveRecord {
  readonly kind: 'proveRecord';
  readonly requestId: number;
  readonly namespace: StateNamespaceName;
  readonly id: Uint8Array;
}

export interface SubmitTx {
  readonly kind: 'submitTx';
  readonly requestId: number;
  /** The transaction's exact canonical bytes (checked to be one transaction when decoded). */
  readonly tx: Uint8Array;
}

export interface GetTxStatus {
  readonly kind: 'getTxStatus';
  readonly requestId: number;
  readonly txId: Uint8Array;
}

export type DeviceRequest = GetStateBlocks | ProveRecord | SubmitTx | GetTxStatus;

export interface StateBlockStep {
  readonly stateBlock: StateBlock;
  /** Present exactly when the state block is a committee change: the committee it names next. */
  readonly nextCommittee: Committee | null;
}

export interface StateBlocks {
  readonly kind: 'stateBlocks';
  readonly requestId: number;
  /** The gateway's latest state block index (the device asks again from the last item + 1 if behind). */
  readonly latestIndex: number;
  readonly items: readonly StateBlockStep[];
}

export interface RecordProof {
  readonly kind: 'recordProof';
  readonly requestId: number;
  /** The state block whose stateRoot the proof is under. */
  readonly stateBlock: StateBlock;
  readonly proof: StateProof;
}

export interface TxAccepted {
  readonly kind: 'txAccepted';
  readonly requestId: number;
  readonly txId: Uint8Array;
}

export interface TxStatus {
  readonly kind: 'txStatus';
  readonly requestId: number;
  readonly txId: Uint8Array;
  readonly status: TxStatusName;
  /** grade1: without a certificate; grade2: with one; otherwise null. */
  readonly proof: TxInclusionProof | null;
}

export interface DeviceErrorResponse {
  readonly kind: 'error';
  readonly requestId: number;
  readonly code: DeviceErrorName;
  readonly detail: string;
}

export type DeviceResponse = StateBlocks | RecordProof | TxAccepted | TxStatus | DeviceErrorResponse;

// ---- shared helpers ----

function writeHead(w: CborWriter, kind: number, fields: number): CborWriter {
  return w
    .array(2 + fields)
    .uint(DEVICE_PROTOCOL_VERSION)
    .uint(kind);
}

function readHead(r: CborReader, what: string, min: number, max = min): { kind: number; fields: number } {
  const n = r.array(what, { min, max });
  const version = r.uint(`${what}.version`);
  if (version !== DEVICE_PROTOCOL_VERSION) {
    throw new DecodeError('DECODE_UNKNOWN_VERSION', `${what}: unknown version ${version}`, {
      field: `${what}.version`,
      version,
    });
  }
  return { kind: r.uint(`${what}.kind`, 0xff), fields: n - 2 };
}

function unknownKind(what: string, kind: number): never {
  throw new DecodeError('DECODE_UNKNOWN_TYPE', `${what}: unknown message kind ${kind}`, {
    field: `${what}.kind`,
    got: kind,
  });
}

function expectFields(what: string, got: number, want: number): void {
  if (got !== want) {
    throw new DecodeError('DECODE_INVALID_LENGTH', `${what}: expected ${want} fields, got ${got}`, {
      field: what,
      got,
    });
  }
}

function checkRequestId(id: number): number {
  if (!Number.isInteger(id) || id < 0 || id > MAX_REQUEST_ID) {
    throw new ArgumentError('requestId', `must be an integer in 0..${MAX_REQUEST_ID}`);
  }
  return id;
}

function writeOptionalCommittee(w: CborWriter, c: Committee | null): void {
  if (c) writeCommittee(w, c);
  else w.null();
}

function readOptionalCommittee(r: CborReader): Committee | null {
  return r.nullIf() ? null : readCommittee(r);
}

/** A committee rides along exactly at a committee change (one encoding per step: no malleability). */
function checkStep(sb: StateBlock, next: Committee | null, field: string): void {
  if (!equalBytes(sb.committee, sb.nextCommittee) !== (next !== null)) {
    invalidValue(field, 'present exactly when the state block changes committee');
  }
}

// ---- announcement ----

export function encodeStateBlockAnnouncement(a: Omit<StateBlockAnnouncement, 'kind'>): Uint8Array {
  const w = new CborWriter(512);
  writeHead(w, DeviceMessageKind.stateBlockAnnouncement, 3);
  writeStateBlock(w, a.stateBlock);
  w.bytes(abytes(a.id, 'id', HASH_BYTES));
  writeOptionalCommittee(w, a.nextCommittee);
  return w.finish();
}

export function decodeStateBlockAnnouncement(bytes: Uint8Array): StateBlockAnnouncement {
  assertMaxSize(bytes, MAX_ANNOUNCEMENT_BYTES, 'announcement');
  const r = new CborReader(bytes);
  const { kind } = readHead(r, 'announcement', 5);
  if (kind !== DeviceMessageKind.stateBlockAnnouncement) unknownKind('announcement', kind);
  const stateBlock = readStateBlock(r);
  const id = r.bytesField('announcement.id', HASH_BYTES);
  const nextCommittee = readOptionalCommittee(r);
  checkStep(stateBlock, nextCommittee, 'announcement.nextCommittee');
  r.end('announcement');
  return { kind: 'stateBlockAnnouncement', stateBlock, id, nextCommittee };
}

// ---- requests ----

export function encodeDeviceRequest(m: DeviceRequest): Uint8Array {
  const w = new CborWriter(m.kind === 'submitTx' ? m.tx.length + 16 : 64);
  const rid = checkRequestId(m.requestId);
  switch (m.kind) {
    case 'getStateBlocks':
      if (m.limit < 1 || m.limit > MAX_STATE_BLOCK_STEPS)
        throw new ArgumentError('limit', `must be within 1..${MAX_STATE_BLOCK_STEPS}`);
      writeHead(w, DeviceMessageKind.getStateBlocks, 4)
        .uint(rid)
        .uint(m.fromIndex)
        .uint(m.limit)
        .bool(m.sparse);
      break;
    case 'proveRecord': {
      const code = StateNamespace[m.namespace];
      if (code === undefined) throw new ArgumentError('namespace', `unknown namespace ${m.namespace}`);
      if (m.id.length < 1 || m.id.length > 64) throw new ArgumentError('id', 'expected 1..64 bytes');
      writeHead(w, DeviceMessageKind.proveRecord, 3).uint(rid).uint(code).bytes(m.id);
      break;
    }
    case 'submitTx':
      if (m.tx.length > MAX_TX_BYTES) throw new ArgumentError('tx', `longer than ${MAX_TX_BYTES} bytes`);
      writeHead(w, DeviceMessageKind.submitTx, 2).uint(rid).raw(m.tx);
      break;
    case 'getTxStatus':
      writeHead(w, DeviceMessageKind.getTxStatus, 2)
        .uint(rid)
        .bytes(abytes(m.txId, 'txId', HASH_BYTES));
      break;
  }
  const out = w.finish();
  // A transaction that is not canonical would make the request undecodable: catch it at the sender.
  if (m.kind === 'submitTx') decodeDeviceRequest(out);
  return out;
}

export function decodeDeviceRequest(bytes: Uint8Array): DeviceRequest {
  assertMaxSize(bytes, MAX_DEVICE_REQUEST_BYTES, 'request');
  const r = new CborReader(bytes);
  const { kind, fields } = readHead(r, 'request', 4, 6);
  const requestId = r.uint('request.requestId', MAX_REQUEST_ID);
  let m: DeviceRequest;
  switch (kind) {
    case DeviceMessageKind.getStateBlocks: {
      expectFields('request', fields, 4);
      const fromIndex = r.uint('request.fromIndex');
      const limit = r.uint('request.limit', MAX_STATE_BLOCK_STEPS);
      if (limit < 1) invalidValue('request.limit', 'must be at least 1');
      m = { kind: 'getStateBlocks', requestId, fromIndex, limit, sparse: r.bool('request.sparse') };
      break;
    }
    case DeviceMessageKind.proveRecord: {
      expectFields('request', fields, 3);
      const code = r.uint('request.namespace', 0xff);
      const namespace = namespaceOfCode(code);
      if (!namespace) invalidValue('request.namespace', `unknown namespace ${code}`);
      m = { kind: 'proveRecord', requestId, namespace, id: r.bytesField('request.id', { min: 1, max: 64 }) };
      break;
    }
    case DeviceMessageKind.submitTx: {
      expectFields('request', fields, 2);
      const start = r.pos;
      readTx(r);
      m = { kind: 'submitTx', requestId, tx: bytes.slice(start, r.pos) };
      break;
    }
    case DeviceMessageKind.getTxStatus:
      expectFields('request', fields, 2);
      m = { kind: 'getTxStatus', requestId, txId: r.bytesField('request.txId', HASH_BYTES) };
      break;
    default:
      unknownKind('request', kind);
  }
  r.end('request');
  return m;
}

/**
 * The request id of a request that may not decode, so a gateway can address its Error response; 0 when
 * not even the head is readable.
 */
export function peekRequestId(bytes: Uint8Array): number {
  try {
    const r = new CborReader(bytes);
    r.array('request');
    r.uint('request.version');
    r.uint('request.kind');
    return r.uint('request.requestId', MAX_REQUEST_ID);
  } catch {
    return 0;
  }
}

// ---- responses ----

export function encodeDeviceResponse(m: DeviceResponse): Uint8Array {
  const w = new CborWriter(m.kind === 'stateBlocks' ? 512 + m.items.length * 4096 : 1024);
  const rid = checkRequestId(m.requestId);
  switch (m.kind) {
    case 'stateBlocks':
      if (m.items.length > MAX_STATE_BLOCK_STEPS)
        throw new ArgumentError('items', `more than ${MAX_STATE_BLOCK_STEPS}`);
      writeHead(w, DeviceMessageKind.stateBlocks, 3).uint(rid).uint(m.latestIndex).array(m.items.length);
      for (const item of m.items) {
        w.array(2);
        writeStateBlock(w, item.stateBlock);
        writeOptionalCommittee(w, item.nextCommittee);
      }
      break;
    case 'recordProof':
      writeHead(w, DeviceMessageKind.recordProof, 3).uint(rid);
      writeStateBlock(w, m.stateBlock);
      writeStateProof(w, m.proof);
      break;
    case 'txAccepted':
      writeHead(w, DeviceMessageKind.txAccepted, 2)
        .uint(rid)
        .bytes(abytes(m.txId, 'txId', HASH_BYTES));
      break;
    case 'txStatus':
      writeHead(w, DeviceMessageKind.txStatus, 4)
        .uint(rid)
        .bytes(abytes(m.txId, 'txId', HASH_BYTES))
        .uint(TxStatusCode[m.status]);
      if (m.proof) writeTxInclusionProof(w, m.proof);
      else w.null();
      break;
    case 'error':
      writeHead(w, DeviceMessageKind.error, 3)
        .uint(rid)
        .uint(DeviceErrorCode[m.code])
        .text(truncateDetail(m.detail));
      break;
  }
  const out = w.finish();
  if (out.length > MAX_DEVICE_RESPONSE_BYTES)
    throw new ArgumentError('response', `${out.length} bytes exceeds ${MAX_DEVICE_RESPONSE_BYTES}`);
  return out;
}

/** Cuts a detail to MAX_ERROR_DETAIL_BYTES of UTF-8, on code point boundaries. */
function truncateDetail(detail: string): string {
  let points = Array.from(detail.replace(/\p{Cs}/gu, '?'));
  let s = points.join('');
  while (utf8(s).length > MAX_ERROR_DETAIL_BYTES) {
    points = points.slice(0, points.length - 8);
    s = points.join('');
  }
  return s;
}

export function decodeDeviceResponse(bytes: Uint8Array): DeviceResponse {
  assertMaxSize(bytes, MAX_DEVICE_RESPONSE_BYTES, 'response');
  const r = new CborReader(bytes);
  const { kind, fields } = readHead(r, 'response', 4, 6);
  const requestId = r.uint('response.requestId', MAX_REQUEST_ID);
  let m: DeviceResponse;
  switch (kind) {
    case DeviceMessageKind.stateBlocks: {
      expectFields('response', fields, 3);
      const latestIndex = r.uint('response.latestIndex');
      const n = r.array('response.items', { max: MAX_STATE_BLOCK_STEPS });
      const items: StateBlockStep[] = [];
      for (let i = 0; i < n; i++) {
        r.array(`response.items[${i}]`, 2);
        const stateBlock = readStateBlock(r);
        const nextCommittee = readOptionalCommittee(r);
        checkStep(stateBlock, nextCommittee, `response.items[${i}].nextCommittee`);
        items.push({ stateBlock, nextCommittee });
      }
      m = { kind: 'stateBlocks', requestId, latestIndex, items };
      break;
    }
    case DeviceMessageKind.recordProof:
      expectFields('response', fields, 3);
      m = { kind: 'recordProof', requestId, stateBlock: readStateBlock(r), proof: readStateProof(r) };
      break;
    case DeviceMessageKind.txAccepted:
      expectFields('response', fields, 2);
      m = { kind: 'txAccepted', requestId, txId: r.bytesField('response.txId', HASH_BYTES) };
      break;
    case DeviceMessageKind.txStatus: {
      expectFields('response', fields, 4);
      const txId = r.bytesField('response.txId', HASH_BYTES);
      const code = r.uint('response.status', 0xff);
      const status = TX_STATUS_NAMES[code];
      if (status === undefined) invalidValue('response.status', `unknown status ${code}`);
      const proof = r.nullIf() ? null : readTxInclusionProof(r);
      const wantsProof = status === 'grade1' || status === 'grade2';
      if (wantsProof !== (proof !== null))
        invalidValue('response.proof', 'present exactly for grade1 and grade2');
      if (proof && (status === 'grade2') !== (proof.certificate !== null))
        invalidValue('response.proof', 'grade2 comes with a certificate, grade1 without');
      m = { kind: 'txStatus', requestId, txId, status, proof };
      break;
    }
    case DeviceMessageKind.error: {
      expectFields('response', fields, 3);
      const code = r.uint('response.code', 0xff);
      const name = ERROR_NAMES.get(code);
      if (!name) invalidValue('response.code', `unknown error code ${code}`);
      m = { kind: 'error', requestId, code: name, detail: r.text('response.detail', MAX_ERROR_DETAIL_BYTES) };
      break;
    }
    default:
      unknownKind('response', kind);
  }
  r.end('response');
  return m;
}

// The MQTT auth token lives in its own file (one idea per file); re-exported so this module stays the
// protocol's single entry point.
export {
  AUTH_NONCE_BYTES,
  authTokenPassword,
  type DeviceAuthToken,
  type DeviceAuthTokenFields,
  decodeDeviceAuthToken,
  deviceAuthMessage,
  encodeDeviceAuthToken,
  MAX_AUDIENCE_BYTES,
  MAX_AUTH_TOKEN_BYTES,
  MAX_AUTH_TOKEN_LIFETIME_MS,
  parseAuthTokenPassword,
  signDeviceAuthToken,
  verifyDeviceAuthToken,
} from './device-auth.js';
