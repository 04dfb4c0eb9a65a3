/**
 * State records and where they live in the shard's sparse Merkle tree (docs/protocol.md §State).
 *
 * One tree holds every kind of record; a record's key is H("iosnet/state-key/v1", u8(namespace) || id)
 * and the tree stores H("iosnet/state-value/v1", record bytes). So one proof format proves an account's
 * balance, a device's registration or a file's metadata, and proves absence as well as presence.
 * Records that light clients check (accounts, devices, files, Atomix locks) are defined here; records
 * only gateways read (validators, services) live with the gateway's state machine.
 */
import { CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { invalidValue } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import { ED25519_PUBLIC_KEY_BYTES, HASH_BYTES, MAX_BOARD_ID_BYTES, MAX_SERIAL_BYTES } from './identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';
import type { Holdings } from './token.js';

export const MAX_RECORD_BYTES = 1024;

export const StateNamespace = {
  account: 1,
  validator: 2,
  device: 3,
  service: 4,
  file: 5,
  atomixLock: 6,
} as const;
export type StateNamespaceName = keyof typeof StateNamespace;

export function stateKey(crypto: Crypto, namespace: StateNamespaceName, id: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.stateKey, Uint8Array.of(StateNamespace[namespace]), id);
}

export function stateValueHash(crypto: Crypto, recordBytes: Uint8Array): Uint8Array {
  return taggedHash(crypto, DomainTag.stateValue, recordBytes);
}

// ---- account ----

export interface AccountState extends Holdings {
  /** Nonce the account's next transaction must carry. */
  readonly nonce: number;
  /** Epoch at which `unbonding` returns to `balance`. */
  readonly unbondingEpoch: number;
}

export const EMPTY_ACCOUNT: AccountState = {
  balance: 0n,
  nonce: 0,
  staked: 0n,
  unbonding: 0n,
  unbondingEpoch: 0,
  locked: 0n,
};

export function writeAccount(w: CborWriter, a: AccountState): void {
  writeEnvelope(w, ObjectType.account, 6);
  w.uint(a.balance).uint(a.nonce).uint(a.staked).uint(a.unbonding).uint(a.unbondingEpoch).uint(a.locked);
}

export function encodeAccount(a: AccountState): Uint8Array {
  const w = new CborWriter(64);
  writeAccount(w, a);
  return w.finish();
}

export function readAccount(r: CborReader): AccountState {
  readEnvelope(r, ObjectType.account, 6);
  const balance = r.u64('account.balance');
  const nonce = r.uint('account.nonce');
  const staked = r.u64('account.staked');
  const unbonding = r.u64('account.unbonding');
  const unbondingEpoch = r.uint('account.unbondingEpoch');
  const locked = r.u64('account.locked');
  return { balance, nonce, staked, unbonding, unbondingEpoch, locked };
}

export function decodeAccount(bytes: Uint8Array): AccountState {
  return decodeWith(bytes, 'account', readAccount);
}

// ---- device ----

export interface DeviceRecord {
  /** Address of the owner who co-signed the registration. */
  readonly owner: Uint8Array;
  readonly devicePublicKey: Uint8Array;
  readonly boardId: string;
  readonly hardwareSerial: string;
  readonly registeredHeight: number;
}

export function writeDeviceRecord(w: CborWriter, d: DeviceRecord): void {
  writeEnvelope(w, ObjectType.deviceRecord, 5);
  w.bytes(d.owner).bytes(d.devicePublicKey).text(d.boardId).text(d.hardwareSerial).uint(d.registeredHeight);
}

export function encodeDeviceRecord(d: DeviceRecord): Uint8Array {
  const w = new CborWriter(192);
  writeDeviceRecord(w, d);
  return w.finish();
}

export function readDeviceRecord(r: CborReader): DeviceRecord {
  readEnvelope(r, ObjectType.deviceRecord, 5);
  const owner = r.bytesField('device.owner', HASH_BYTES);
  const devicePublicKey = r.bytesField('device.devicePublicKey', ED25519_PUBLIC_KEY_BYTES);
  const boardId = r.text('device.boardId', MAX_BOARD_ID_BYTES);
  const hardwareSerial = r.text('device.hardwareSerial', MAX_SERIAL_BYTES);
  const registeredHeight = r.uint('device.registeredHeight');
  if (boardId.length === 0) invalidValue('device.boardId', 'must not be empty');
  return { owner, devicePublicKey, boardId, hardwareSerial, registeredHeight };
}

export function decodeDeviceRecord(bytes: Uint8Array): DeviceRecord {
  return decodeWith(bytes, 'device', readDeviceRecord);
}

// ---- file (HUDS metadata) ----

export interface FileRecord {
  readonly owner: Uint8Array;
  readonly size: number;
  readonly chunkSize: number;
  readonly replication: number;
  readonly name: string;
  readonly storedHeight: number;
}

export function writeFileRecord(w: CborWriter, f: FileRecord): void {
  writeEnvelope(w, ObjectType.fileRecord, 6);
  w.bytes(f.owner).uint(f.size).uint(f.chunkSize).uint(f.replication).text(f.name).uint(f.storedHeight);
}

export function encodeFileRecord(f: FileRecord): Uint8Array {
  const w = new CborWriter(192);
  writeFileRecord(w, f);
  return w.finish();
}

export function readFileRecord(r: CborReader): FileRecord {
  readEnvelope(r, ObjectType.fileRecord, 6);
  const owner = r.bytesField('file.owner', HASH_BYTES);
  const size = r.uint('file.size');
  const chunkSize = r.uint('file.chunkSize', 1 << 24);
  const replication = r.uint('file.replication', 16);
  const name = r.text('file.name', 128);
  const storedHeight = r.uint('file.storedHeight');
  // The same rules as the storeFile transaction that created the record.
  if (chunkSize < 1) invalidValue('file.chunkSize', 'must be positive');
  if (replication < 1) invalidValue('file.replication', 'must be within 1..16');
  return { owner, size, chunkSize, replication, name, storedHeight };
}

export function decodeFileRecord(bytes: Uint8Array): FileRecord {
  return decodeWith(bytes, 'file', readFileRecord);
}

// ---- Atomix lock ----

/** accepted: funds locked; rejected: the input could not be locked; committed/aborted: final. */
export const LockStatus = { accepted: 1, rejected: 2, committed: 3, aborted: 4 } as const;
export type LockStatusName = keyof typeof LockStatus;
const LOCK_STATUS_NAMES = Object.keys(LockStatus) as LockStatusName[];

export interface AtomixLockRecord {
  readonly crossTxId: Uint8Array;
  readonly inputIndex: number;
  readonly status: LockStatusName;
  readonly amount: bigint;
}

/** Lock records are keyed by crossTxId || u8(inputIndex): one record per input of a cross-shard tx. */
export function atomixLockKey(crypto: Crypto, crossTxId: Uint8Array, inputIndex: number): Uint8Array {
  const id = new Uint8Array(HASH_BYTES + 1);
  id.set(crossTxId);
  id[HASH_BYTES] = inputIndex;
  return stateKey(crypto, 'atomixLock', id);
}

export function writeAtomixLockRecord(w: CborWriter, l: AtomixLockRecord): void {
  writeEnvelope(w, ObjectType.atomixLockRecord, 4);
  w.bytes(l.crossTxId).uint(l.inputIndex).uint(LockStatus[l.status]).uint(l.amount);
}

export function encodeAtomixLockRecord(l: AtomixLockRecord): Uint8Array {
  const w = new CborWriter(64);
  writeAtomixLockRecord(w, l);
  return w.finish();
}

export function readAtomixLockRecord(r: CborReader): AtomixLockRecord {
  readEnvelope(r, ObjectType.atomixLockRecord, 4);
  const crossTxId = r.bytesField('lock.crossTxId', HASH_BYTES);
  const inputIndex = r.uint('lock.inputIndex', 255);
  const statusCode = r.uint('lock.status', 4);
  const status = LOCK_STATUS_NAMES[statusCode - 1];
  if (!status) invalidValue('lock.status', `unknown lock status ${statusCode}`);
  const amount = r.u64('lock.amount');
  return { crossTxId, inputIndex, status, amount };
}

export function decodeAtomixLockRecord(bytes: Uint8Array): AtomixLockRecord {
  return decodeWith(bytes, 'lock', readAtomixLockRecord);
}

function decodeWith<T>(bytes: Uint8Array, name: string, read: (r: CborReader) => T): T {
  assertMaxSize(bytes, MAX_RECORD_BYTES, name);
  const r = new CborReader(bytes);
  const v = read(r);
  r.end(name);
  return v;
}
