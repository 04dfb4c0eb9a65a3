/**
 * One table of every top-level object kind: how to decode, encode, identify and authenticate it. Shared by
 * the vector test, the property test and scripts/gen-vectors-objects.ts so all three agree on what a kind is.
 */
import { decodeBlock, encodeBlock, MAX_BLOCK_BYTES, parseBlock, verifyBlockBody } from '../../core/block.js';
import { toHex } from '../../core/bytes.js';
import {
  committeeHash,
  decodeCommittee,
  encodeCommittee,
  MAX_COMMITTEE_BYTES,
} from '../../core/committee.js';
import { decodeGenesis, encodeGenesis, genesisHash, MAX_GENESIS_BYTES } from '../../core/genesis.js';
import {
  blockIdOf,
  decodeBlockHeader,
  decodeFinalityCertificate,
  encodeBlockHeader,
  encodeFinalityCertificate,
  MAX_CERTIFICATE_BYTES,
  MAX_HEADER_BYTES,
} from '../../core/header.js';
import { ObjectType, type ObjectTypeCode } from '../../core/object.js';
import {
  decodeAccount,
  decodeAtomixLockRecord,
  decodeDeviceRecord,
  decodeFileRecord,
  encodeAccount,
  encodeAtomixLockRecord,
  encodeDeviceRecord,
  encodeFileRecord,
  MAX_RECORD_BYTES,
  stateValueHash,
} from '../../core/state.js';
import {
  decodeStateBlock,
  encodeStateBlock,
  MAX_STATE_BLOCK_BYTES,
  stateBlockIdOf,
} from '../../core/state-block.js';
import { decodeTx, encodeTx, MAX_TX_BYTES, parseTx, verifyTxSignatures } from '../../core/tx.js';
import {
  makeCommittee,
  makeHeader,
  verifyCertificateFor,
  verifyHeaderSignature,
  verifyStateBlockSignature,
} from './chain.js';
import { testCrypto } from './crypto.js';

export const OBJECT_KINDS = [
  'tx',
  'header',
  'block',
  'finalityCertificate',
  'committee',
  'stateBlock',
  'account',
  'deviceRecord',
  'fileRecord',
  'atomixLockRecord',
  'genesis',
] as const;
export type ObjectKind = (typeof OBJECT_KINDS)[number];

export interface ObjectCodec {
  readonly type: ObjectTypeCode;
  readonly maxBytes: number;
  /** File name under test/vectors/objects/. */
  readonly file: string;
  decode(bytes: Uint8Array): unknown;
  encode(value: unknown): Uint8Array;
  /** The id the format defines (tx id, block id, ...), computed as a node would from the bytes. */
  readonly idName?: string;
  id?(bytes: Uint8Array): Uint8Array;
  /** State records: H("iosnet/state-value/v1", bytes), the value the state tree stores. */
  valueHash?(bytes: Uint8Array): Uint8Array;
  /**
   * The check a light client runs (core/verify.ts) against the test committee of shard 0, epoch 1 (and,
   * for certificates, the fixture header); throws VerifyError. Absent for unsigned kinds, which are
   * authenticated by a hash the verifier already trusts instead.
   */
  verify?(value: unknown): void;
}

// biome-ignore lint/suspicious/noExplicitAny: the table erases each kind's value type on purpose.
type Any = any;

const recordHash = (bytes: Uint8Array) => stateValueHash(testCrypto, bytes);

export const CODECS: Readonly<Record<ObjectKind, ObjectCodec>> = {
  tx: {
    type: ObjectType.tx,
    maxBytes: MAX_TX_BYTES,
    file: 'tx.json',
    decode: decodeTx,
    encode: (v: Any) => encodeTx(v),
    idName: 'txId',
    id: (b) => parseTx(testCrypto, b).id,
    verify: (v: Any) => verifyTxSignatures(testCrypto, v),
  },
  header: {
    type: ObjectType.blockHeader,
    maxBytes: MAX_HEADER_BYTES,
    file: 'header.json',
    decode: decodeBlockHeader,
    encode: (v: Any) => encodeBlockHeader(v),
    idName: 'blockId',
    id: (b) => blockIdOf(testCrypto, decodeBlockHeader(b)),
    verify: (v: Any) => verifyHeaderSignature(makeCommittee().prepared, v),
  },
  block: {
    type: ObjectType.block,
    maxBytes: MAX_BLOCK_BYTES,
    file: 'block.json',
    decode: (b) => decodeBlock(testCrypto, b),
    encode: (v: Any) => encodeBlock(v),
    idName: 'blockId',
    id: (b) => parseBlock(testCrypto, b).blockId,
    verify: (v: Any) => {
      verifyHeaderSignature(makeCommittee().prepared, v.header);
      const { txIds } = parseBlock(testCrypto, encodeBlock(v));
      verifyBlockBody(testCrypto, v, txIds);
      for (const [i, tx] of (v.txs as Any[]).entries()) verifyTxSignatures(testCrypto, tx, txIds[i]);
    },
  },
  finalityCertificate: {
    type: ObjectType.finalityCertificate,
    maxBytes: MAX_CERTIFICATE_BYTES,
    file: 'finality-certificate.json',
    decode: decodeFinalityCertificate,
    encode: (v: Any) => encodeFinalityCertificate(v),
    // A certificate is checked together with the header it certifies: the vectors' fixture header.
    verify: (v: Any) => verifyCertificateFor(makeCommittee().prepared, makeHeader(makeCommittee()).header, v),
  },
  committee: {
    type: ObjectType.committee,
    maxBytes: MAX_COMMITTEE_BYTES,
    file: 'committee.json',
    decode: decodeCommittee,
    encode: (v: Any) => encodeCommittee(v),
    idName: 'committeeHash',
    id: (b) => committeeHash(testCrypto, decodeCommittee(b)),
  },
  stateBlock: {
    type: ObjectType.stateBlock,
    maxBytes: MAX_STATE_BLOCK_BYTES,
    file: 'state-block.json',
    decode: decodeStateBlock,
    encode: (v: Any) => encodeStateBlock(v),
    idName: 'stateBlockId',
    id: (b) => stateBlockIdOf(testCrypto, decodeStateBlock(b)),
    verify: (v: Any) => verifyStateBlockSignature(makeCommittee().prepared, v),
  },
  account: {
    type: ObjectType.account,
    maxBytes: MAX_RECORD_BYTES,
    file: 'account.json',
    decode: decodeAccount,
    encode: (v: Any) => encodeAccount(v),
    valueHash: recordHash,
  },
  deviceRecord: {
    type: ObjectType.deviceRecord,
    maxBytes: MAX_RECORD_BYTES,
    file: 'device-record.json',
    decode: decodeDeviceRecord,
    encode: (v: Any) => encodeDeviceRecord(v),
    valueHash: recordHash,
  },
  fileRecord: {
    type: ObjectType.fileRecord,
    maxBytes: MAX_RECORD_BYTES,
    file: 'file-record.json',
    decode: decodeFileRecord,
    encode: (v: Any) => encodeFileRecord(v),
    valueHash: recordHash,
  },
  atomixLockRecord: {
    type: ObjectType.atomixLockRecord,
    maxBytes: MAX_RECORD_BYTES,
    file: 'atomix-lock-record.json',
    decode: decodeAtomixLockRecord,
    encode: (v: Any) => encodeAtomixLockRecord(v),
    valueHash: recordHash,
  },
  genesis: {
    type: ObjectType.genesis,
    maxBytes: MAX_GENESIS_BYTES,
    file: 'genesis.json',
    decode: decodeGenesis,
    encode: (v: Any) => encodeGenesis(v),
    idName: 'genesisHash',
    id: (b) => genesisHash(testCrypto, decodeGenesis(b)),
  },
};

/** JSON form of a decoded value for vectors: bytes as {"$bytes": hex}, bigints as {"$u64": decimal}. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export function toJsonValue(v: unknown): JsonValue {
  if (v instanceof Uint8Array) return { $bytes: toHex(v) };
  if (typeof v === 'bigint') return { $u64: v.toString() };
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = toJsonValue(x);
    return out;
  }
  throw new TypeError(`cannot render ${typeof v} as JSON`);
}

// ---- vector files ----

export interface ValidObjectVector {
  readonly name: string;
  readonly hex: string;
  /** The id the kind defines (see CODECS[kind].idName), hex. */
  readonly id?: string;
  readonly valueHash?: string;
  readonly value: JsonValue;
  readonly note?: string;
}

export interface RejectObjectVector {
  readonly name: string;
  readonly hex: string;
  /** Zero bytes to append to hex before decoding (keeps oversize vectors small on disk). */
  readonly appendZeroBytes?: number;
  /**
   * decode: decoding throws DecodeError `error`; verify: it decodes and the kind's signature check throws
   * VerifyError `error`; validate (genesis): it decodes and validateGenesis throws `error`.
   */
  readonly stage: 'decode' | 'verify' | 'validate';
  readonly error: string;
  readonly note?: string;
}

export interface ObjectVectorFile {
  readonly description: string;
  readonly kind: ObjectKind;
  readonly valid: readonly ValidObjectVector[];
  readonly reject: readonly RejectObjectVector[];
}
