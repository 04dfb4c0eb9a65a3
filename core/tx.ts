/**
 * Transactions (docs/protocol.md §Transactions).
 *
 * Transaction = [1, 1, body, signatures]
 *   body       = [chainId, kind, sender, nonce, expiry, fee, payload]
 *   signatures = [ed25519 signature (64 bytes), ...] over txId = H("iosnet/tx/v1", body bytes)
 * The sender is an Ed25519 public key (its address is derived); `nonce` is the sender's next nonce;
 * `expiry` is a Unix time in ms after which no block may include it; `fee` goes to the proposer.
 * register-device carries two signatures: the owner's (the sender) and then the device's own key, so a
 * device can only be registered with the cooperation of both.
 */

import { type AtomixPayload, readAtomixPayload, writeAtomixPayload } from './atomix.js';
import { abytes } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { DecodeError, invalidValue, VerifyError } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import {
  BLS_PUBLIC_KEY_BYTES,
  BLS_SIGNATURE_BYTES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  HASH_BYTES,
  MAX_BOARD_ID_BYTES,
  MAX_CHAIN_ID_BYTES,
  MAX_SERIAL_BYTES,
} from './identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';

export const MAX_TX_BYTES = 32 * 1024;
export const MAX_MEMO_BYTES = 64;
export const MAX_ENDPOINT_BYTES = 128;
export const MAX_SERVICE_NAME_BYTES = 64;
export const MAX_FILE_NAME_BYTES = 128;
export const MAX_EVIDENCE_ITEM_BYTES = 4096;
export const MAX_REPLICATION = 16;
export const MAX_DKG_DEALING_BYTES = 30 * 1024;
export const MAX_DKG_COMPLAINT_BYTES = 4096;

export const TxKind = {
  transfer: 1,
  stake: 2,
  unstake: 3,
  registerValidator: 4,
  registerDevice: 5,
  registerService: 6,
  review: 7,
  storeFile: 8,
  atomixLock: 9,
  atomixCommit: 10,
  atomixAbort: 11,
  evidence: 12,
  dkgDeal: 13,
  dkgComplaint: 14,
  beacon: 15,
} as const;
export type TxKindName = keyof typeof TxKind;

export interface Transfer {
  readonly kind: 'transfer';
  readonly to: Uint8Array;
  readonly amount: bigint;
  readonly memo: Uint8Array;
}
export interface Stake {
  readonly kind: 'stake';
  readonly amount: bigint;
}
export interface Unstake {
  readonly kind: 'unstake';
  readonly amount: bigint;
}
export interface RegisterValidator {
  readonly kind: 'registerValidator';
  readonly blsPublicKey: Uint8Array;
  /** BLS signature of blsPopMessage(blsPublicKey) by the BLS key: proof of possession. */
  readonly blsPop: Uint8Array;
  /** host:port where the validator's gateway accepts peers. */
  readonly endpoint: string;
}
export interface RegisterDevice {
  readonly kind: 'registerDevice';
  readonly devicePublicKey: Uint8Array;
  readonly boardId: string;
  readonly hardwareSerial: string;
}
export interface RegisterService {
  readonly kind: 'registerService';
  readonly name: string;
  readonly price: bigint;
  readonly descriptionHash: Uint8Array;
}
export interface Review {
  readonly kind: 'review';
  readonly serviceId: Uint8Array;
  /** 1 (worst) .. 5 (best). */
  readonly rating: number;
  readonly commentHash: Uint8Array;
}
export interface StoreFile {
  readonly kind: 'storeFile';
  /** Merkle root of the file's chunks: the file's HUDS id. */
  readonly fileRoot: Uint8Array;
  readonly size: number;
  readonly chunkSize: number;
  readonly replication: number;
  readonly name: string;
}
export const EvidenceKind = { proposalEquivocation: 1, voteEquivocation: 2, invalidBlock: 3 } as const;
export interface Evidence {
  readonly kind: 'evidence';
  readonly evidenceKind: number;
  /** The conflicting signed objects, exactly as their signers published them. */
  readonly first: Uint8Array;
  readonly second: Uint8Array;
}

/** Distributed key generation of the next-but-one committee (docs/consensus.md §3); bodies: protocol.md §14. */
export interface DkgDeal {
  readonly kind: 'dkgDeal';
  readonly epoch: number;
  readonly dealing: Uint8Array;
}
export interface DkgComplaint {
  readonly kind: 'dkgComplaint';
  readonly epoch: number;
  readonly complaint: Uint8Array;
}
/** The committee's threshold signature on the epoch's beacon message: seed_e = H(seed tag, signature). */
export interface Beacon {
  readonly kind: 'beacon';
  readonly epoch: number;
  readonly signature: Uint8Array;
}

export type TxPayload =
  | Transfer
  | Stake
  | Unstake
  | RegisterValidator
  | RegisterDevice
  | RegisterService
  | Review
  | StoreFile
  | AtomixPayload
  | Evidence
  | DkgDeal
  | DkgComplaint
  | Beacon;

export interface TxBody {
  readonly chainId: string;
  readonly sender: Uint8Array;
  readonly nonce: number;
  readonly expiry: number;
  readonly fee: bigint;
  readonly payload: TxPayload;
}

export interface Transaction {
  readonly body: TxBody;
  readonly signatures: readonly Uint8Array[];
}

/**
 * Consensus's own messages carried as transactions (protocol.md §6.2): evidence, DKG deals and complaints,
 * beacon signatures. They carry nonce 0 and fee 0 and never touch the sender's account: each is unique by
 * its content (one slashing per offender, one dealing per dealer and epoch, one complaint per pair, one
 * beacon per epoch), so a duplicate or a late one simply fails and cannot hold back the sender's other
 * transactions behind a used nonce.
 */
export const SYSTEM_TX_KINDS: ReadonlySet<TxKindName> = /* @__PURE__ */ new Set([
  'evidence',
  'dkgDeal',
  'dkgComplaint',
  'beacon',
]);

export function isSystemTx(kind: TxKindName): boolean {
  return SYSTEM_TX_KINDS.has(kind);
}

/** How many signatures a kind carries: register-device is co-signed by the device key. */
export function requiredSignatures(kind: TxKindName): number {
  return kind === 'registerDevice' ? 2 : 1;
}

// ---- payload codecs ----

function writePayload(w: CborWriter, p: TxPayload): void {
  switch (p.kind) {
    case 'transfer':
      w.array(3).bytes(p.to).uint(p.amount).bytes(p.memo);
      return;
    case 'stake':
    case 'unstake':
      w.array(1).uint(p.amount);
      return;
    case 'registerValidator':
      w.array(3).bytes(p.blsPublicKey).bytes(p.blsPop).text(p.endpoint);
      return;
    case 'registerDevice':
      w.array(3).bytes(p.devicePublicKey).text(p.boardId).text(p.hardwareSerial);
      return;
    case 'registerService':
      w.array(3).text(p.name).uint(p.price).bytes(p.descriptionHash);
      return;
    case 'review':
      w.array(3).bytes(p.serviceId).uint(p.rating).bytes(p.commentHash);
      return;
    case 'storeFile':
      w.array(5).bytes(p.fileRoot).uint(p.size).uint(p.chunkSize).uint(p.replication).text(p.name);
      return;
    case 'evidence':
      w.array(3).uint(p.evidenceKind).bytes(p.first).bytes(p.second);
      return;
    case 'dkgDeal':
      w.array(2).uint(p.epoch).bytes(p.dealing);
      return;
    case 'dkgComplaint':
      w.array(2).uint(p.epoch).bytes(p.complaint);
      return;
    case 'beacon':
      w.array(2).uint(p.epoch).bytes(p.signature);
      return;
    default:
      writeAtomixPayload(w, p);
  }
}

function readPayload(r: CborReader, kind: number): TxPayload {
  const f = 'tx.payload';
  switch (kind) {
    case TxKind.transfer: {
      r.array(f, 3);
      const to = r.bytesField(`${f}.to`, HASH_BYTES);
      const amount = r.u64(`${f}.amount`);
      const memo = r.bytesField(`${f}.memo`, { max: MAX_MEMO_BYTES });
      return { kind: 'transfer', to, amount, memo };
    }
    case TxKind.stake:
    case TxKind.unstake: {
      r.array(f, 1);
      const amount = r.u64(`${f}.amount`);
      if (amount === 0n) invalidValue(`${f}.amount`, 'must be positive');
      return { kind: kind === TxKind.stake ? 'stake' : 'unstake', amount };
    }
    case TxKind.registerValidator: {
      r.array(f, 3);
      const blsPublicKey = r.bytesField(`${f}.blsPublicKey`, BLS_PUBLIC_KEY_BYTES);
      const blsPop = r.bytesField(`${f}.blsPop`, BLS_SIGNATURE_BYTES);
      const endpoint = r.text(`${f}.endpoint`, MAX_ENDPOINT_BYTES);
      return { kind: 'registerValidator', blsPublicKey, blsPop, endpoint };
    }
    case TxKind.registerDevice: {
      r.array(f, 3);
      const devicePublicKey = r.bytesField(`${f}.devicePublicKey`, ED25519_PUBLIC_KEY_BYTES);
      const boardId = r.text(`${f}.boardId`, MAX_BOARD_ID_BYTES);
      const hardwareSerial = r.text(`${f}.hardwareSerial`, MAX_SERIAL_BYTES);
      if (boardId.length === 0) invalidValue(`${f}.boardId`, 'must not be empty');
      return { kind: 'registerDevice', devicePublicKey, boardId, hardwareSerial };
    }
    case TxKind.registerService: {
      r.array(f, 3);
      const name = r.text(`${f}.name`, MAX_SERVICE_NAME_BYTES);
      const price = r.u64(`${f}.price`);
      const descriptionHash = r.bytesField(`${f}.descriptionHash`, HASH_BYTES);
      if (name.length === 0) invalidValue(`${f}.name`, 'must not be empty');
      return { kind: 'registerService', name, price, descriptionHash };
    }
    case TxKind.review: {
      r.array(f, 3);
      const serviceId = r.bytesField(`${f}.serviceId`, HASH_BYTES);
      const rating = r.uint(`${f}.rating`, 5);
      if (rating < 1) invalidValue(`${f}.rating`, 'must be within 1..5');
      const commentHash = r.bytesField(`${f}.commentHash`, HASH_BYTES);
      return { kind: 'review', serviceId, rating, commentHash };
    }
    case TxKind.storeFile: {
      r.array(f, 5);
      const fileRoot = r.bytesField(`${f}.fileRoot`, HASH_BYTES);
      const size = r.uint(`${f}.size`);
      const chunkSize = r.uint(`${f}.chunkSize`, 1 << 24);
      const replication = r.uint(`${f}.replication`, MAX_REPLICATION);
      const name = r.text(`${f}.name`, MAX_FILE_NAME_BYTES);
      if (chunkSize < 1) invalidValue(`${f}.chunkSize`, 'must be positive');
      if (replication < 1) invalidValue(`${f}.replication`, `must be within 1..${MAX_REPLICATION}`);
      return { kind: 'storeFile', fileRoot, size, chunkSize, replication, name };
    }
    case TxKind.evidence: {
      r.array(f, 3);
      const evidenceKind = r.uint(`${f}.evidenceKind`, 3);
      if (evidenceKind < 1) invalidValue(`${f}.evidenceKind`, 'unknown evidence kind');
      const first = r.bytesField(`${f}.first`, { min: 1, max: MAX_EVIDENCE_ITEM_BYTES });
      const second = r.bytesField(`${f}.second`, { min: 1, max: MAX_EVIDENCE_ITEM_BYTES });
      return { kind: 'evidence', evidenceKind, first, second };
    }
    case TxKind.atomixLock:
    case TxKind.atomixCommit:
    case TxKind.atomixAbort:
      return readAtomixPayload(r, kind);
    case TxKind.dkgDeal: {
      r.array(f, 2);
      const epoch = r.uint(`${f}.epoch`);
      const dealing = r.bytesField(`${f}.dealing`, { min: 1, max: MAX_DKG_DEALING_BYTES });
      return { kind: 'dkgDeal', epoch, dealing };
    }
    case TxKind.dkgComplaint: {
      r.array(f, 2);
      const epoch = r.uint(`${f}.epoch`);
      const complaint = r.bytesField(`${f}.complaint`, { min: 1, max: MAX_DKG_COMPLAINT_BYTES });
      return { kind: 'dkgComplaint', epoch, complaint };
    }
    case TxKind.beacon: {
      r.array(f, 2);
      const epoch = r.uint(`${f}.epoch`);
      const signature = r.bytesField(`${f}.signature`, BLS_SIGNATURE_BYTES);
      return { kind: 'beacon', epoch, signature };
    }
    default:
      throw new DecodeError('DECODE_INVALID_VALUE', `tx.kind: unknown transaction kind ${kind}`, {
        field: 'tx.kind',
        kind,
      });
  }
}

// ---- body and transaction ----

export function writeTxBody(w: CborWriter, b: TxBody): void {
  w.array(7)
    .text(b.chainId)
    .uint(TxKind[b.payload.kind])
    .bytes(b.sender)
    .uint(b.nonce)
    .uint(b.expiry)
    .uint(b.fee);
  writePayload(w, b.payload);
}

export function encodeTxBody(b: TxBody): Uint8Array {
  const w = new CborWriter(256);
  writeTxBody(w, b);
  return w.finish();
}

export function txIdOfBody(crypto: Crypto, bodyBytes: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.tx, bodyBytes);
}

export function txIdOf(crypto: Crypto, tx: Transaction): Uint8Array {
  return txIdOfBody(crypto, encodeTxBody(tx.body));
}

export function writeTx(w: CborWriter, tx: Transaction): void {
  writeEnvelope(w, ObjectType.tx, 2);
  writeTxBody(w, tx.body);
  w.array(tx.signatures.length);
  for (const s of tx.signatures) w.bytes(s);
}

export function encodeTx(tx: Transaction): Uint8Array {
  const w = new CborWriter(384);
  writeTx(w, tx);
  return w.finish();
}

/** Reads one transaction; `bodyBytes` is a view of the exact span hashed into the tx id. */
export function readTx(r: CborReader): { tx: Transaction; bodyBytes: Uint8Array } {
  readEnvelope(r, ObjectType.tx, 2);
  const start = r.pos;
  r.array('tx.body', 7);
  const chainId = r.text('tx.chainId', MAX_CHAIN_ID_BYTES);
  const kind = r.uint('tx.kind', 0xff);
  const sender = r.bytesField('tx.sender', ED25519_PUBLIC_KEY_BYTES);
  const nonce = r.uint('tx.nonce');
  const expiry = r.uint('tx.expiry');
  const fee = r.u64('tx.fee');
  const payload = readPayload(r, kind);
  if (isSystemTx(payload.kind) && (nonce !== 0 || fee !== 0n)) {
    invalidValue('tx.nonce', `${payload.kind} is a system transaction: nonce and fee must be 0`);
  }
  const bodyBytes = r.bytes.subarray(start, r.pos);
  const n = r.array('tx.signatures', { min: 1, max: 2 });
  if (n !== requiredSignatures(payload.kind)) {
    invalidValue(
      'tx.signatures',
      `${payload.kind} carries ${requiredSignatures(payload.kind)} signature(s), got ${n}`,
    );
  }
  const signatures: Uint8Array[] = [];
  for (let i = 0; i < n; i++) signatures.push(r.bytesField(`tx.signatures[${i}]`, ED25519_SIGNATURE_BYTES));
  return { tx: { body: { chainId, sender, nonce, expiry, fee, payload }, signatures }, bodyBytes };
}

export function decodeTx(bytes: Uint8Array): Transaction {
  assertMaxSize(bytes, MAX_TX_BYTES, 'tx');
  const r = new CborReader(bytes);
  const { tx } = readTx(r);
  r.end('tx');
  return tx;
}

/**
 * Decode plus id, hashing the body's bytes in place (no re-encode): the gateway's hot path. `views`: the
 * transaction's byte fields are views into `bytes`, which the caller owns and never changes.
 */
export function parseTx(
  crypto: Crypto,
  bytes: Uint8Array,
  views = false,
): { tx: Transaction; id: Uint8Array } {
  assertMaxSize(bytes, MAX_TX_BYTES, 'tx');
  const r = new CborReader(bytes, 0, views);
  const { tx, bodyBytes } = readTx(r);
  r.end('tx');
  return { tx, id: txIdOfBody(crypto, bodyBytes) };
}

/** The public keys whose signatures a transaction must carry, in order. */
export function txSigners(tx: Transaction): Uint8Array[] {
  const p = tx.body.payload;
  return p.kind === 'registerDevice' ? [tx.body.sender, p.devicePublicKey] : [tx.body.sender];
}

/** Checks every signature over the tx id; throws VERIFY_BAD_SIGNATURE naming the signer's position. */
export function verifyTxSignatures(
  crypto: Crypto,
  tx: Transaction,
  id: Uint8Array = txIdOf(crypto, tx),
): void {
  const signers = txSigners(tx);
  if (tx.signatures.length !== signers.length) {
    throw new VerifyError('VERIFY_MISSING_SIGNATURE', `expected ${signers.length} signatures`, {
      expected: signers.length,
      got: tx.signatures.length,
    });
  }
  for (let i = 0; i < signers.length; i++) {
    if (!crypto.ed25519.verify(tx.signatures[i]!, id, signers[i]!)) {
      throw new VerifyError('VERIFY_BAD_SIGNATURE', `signature ${i} does not verify`, { index: i });
    }
  }
}

/**
 * Signs a body. secretKeys are the Ed25519 seeds of txSigners() in order: [sender] or, for
 * register-device, [owner (sender), device].
 */
export function signTx(
  crypto: Crypto,
  body: TxBody,
  secretKeys: readonly Uint8Array[],
): { tx: Transaction; id: Uint8Array } {
  const id = txIdOfBody(crypto, encodeTxBody(body));
  const signatures = secretKeys.map((sk, i) => crypto.ed25519.sign(id, abytes(sk, `secretKeys[${i}]`, 32)));
  return { tx: { body, signatures }, id };
}
