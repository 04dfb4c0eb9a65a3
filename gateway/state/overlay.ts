/**
 * The in-memory overlay of one executing block: reads fall through to the committed state, writes stay
 * here until commit. Each transaction runs with a journal of the entries it touched, so a failing one is
 * rolled back entry by entry and leaves the overlay exactly as it was.
 */
import { compareBytes } from '../../core/bytes.js';
import {
  type AccountState,
  type DeviceRecord,
  decodeAccount,
  decodeDeviceRecord,
  decodeFileRecord,
  EMPTY_ACCOUNT,
  encodeAccount,
  type FileRecord,
} from '../../core/state.js';
import { latin1, latin1Prefix } from '../util/latin1.js';
import { Latin1Arena, type StateHasher } from './hasher.js';
import type { ConsensusNamespace, ServiceRecord, StateWriter, ValidatorRecord } from './interface.js';
import { type NamespaceName, namespaceNumber } from './keys.js';
import { decodeServiceRecord, decodeValidatorRecord, encodeValidatorRecord } from './records.js';
import { recordOf } from './store-format.js';

/** What an overlay reads beneath itself: the committed state as of its parent height. */
export interface ParentState {
  /** Stored record (u8 ns || u8 idLength || id || record) of a state key, both latin1, or undefined. */
  readLatest(stateKey: string): string | undefined;
  /** Owners of the validators that exist in the committed state. */
  validatorOwners(): Uint8Array[];
}

/** One (namespace, id) in an overlay: a cached read of the parent, or a write of this block. */
export class OverlayEntry {
  /** Record bytes; null when deleted; undefined while only `account` is set (encoded at finish). */
  record: Uint8Array | null | undefined;
  /** Decoded account, kept so that a block touching an account many times encodes it once. */
  account: AccountState | undefined = undefined;
  /** False for entries that only cache a read of the parent. */
  dirty = false;
  /** Number of the transaction that saved this entry in the journal. */
  journaled = 0;

  constructor(
    readonly namespace: number,
    /** u8 namespace then the id's bytes, one char per byte: the overlay's map key, and the id itself. */
    readonly slot: string,
    /** State key, latin1 (hasher.ts). */
    readonly key: string,
    /** Stored record of the key at the parent height (latin1), null when absent. */
    readonly base: string | null,
    /** The same as bytes. */
    stored: Uint8Array | undefined,
  ) {
    this.record = stored === undefined ? null : recordOf(stored);
  }

  /** The id's bytes (a fresh copy; the slot keeps them without a Uint8Array per entry). */
  get id(): Uint8Array {
    const out = new Uint8Array(this.slot.length - 1);
    for (let i = 0; i < out.length; i++) out[i] = this.slot.charCodeAt(i + 1);
    return out;
  }
}

const VALIDATOR_NS = namespaceNumber('validator');
const ACCOUNT_NS = namespaceNumber('account');

const slotScratch = Buffer.alloc(1 + 255);

/** Map key of (namespace, id) without hashing, built flat (a concatenation would be flattened per lookup). */
function slotOf(namespace: number, id: Uint8Array): string {
  slotScratch[0] = namespace;
  slotScratch.set(id, 1);
  return latin1Prefix(slotScratch, 1 + id.length);
}

export class Overlay implements StateWriter {
  /** slot -> entry: writes of this block and cached reads of the parent. */
  readonly entries = new Map<string, OverlayEntry>();
  private readonly arena = new Latin1Arena();
  // The running transaction's journal: each entry it wrote, with the fields it had before (flat arrays,
  // reused: a Map per transaction was a visible share of the garbage per block, measured).
  private tx = 0;
  private inTx = false;
  private savedCount = 0;
  private readonly saved: OverlayEntry[] = [];
  private readonly savedRecord: (Uint8Array | null | undefined)[] = [];
  private readonly savedAccount: (AccountState | undefined)[] = [];
  private readonly savedDirty: boolean[] = [];

  constructor(
    readonly height: number,
    protected readonly hasher: StateHasher,
    protected readonly parent: ParentState,
  ) {}

  // ---- transactions ----

  /** Runs fn as one atomic unit: any throw restores every entry it wrote. */
  atomically(fn: () => void): void {
    this.tx++;
    this.inTx = true;
    try {
      fn();
    } catch (err) {
      for (let i = this.savedCount - 1; i >= 0; i--) {
        const e = this.saved[i]!;
        e.record = this.savedRecord[i];
        e.account = this.savedAccount[i];
        e.dirty = this.savedDirty[i]!;
      }
      throw err;
    } finally {
      this.inTx = false;
      // Kept, not truncated: truncating frees the arrays' storage, and every transaction regrew it.
      this.savedCount = 0;
    }
  }

  /** The changed entries with their record bytes (accounts encoded now). */
  *changes(): Iterable<OverlayEntry & { record: Uint8Array | null }> {
    for (const e of this.entries.values()) {
      if (!e.dirty) continue;
      if (e.record === undefined) e.record = encodeAccount(e.account!);
      yield e as OverlayEntry & { record: Uint8Array | null };
    }
  }

  // ---- raw records ----

  private entry(namespace: number, id: Uint8Array): OverlayEntry {
    const slot = slotOf(namespace, id);
    let e = this.entries.get(slot);
    if (e === undefined) {
      const key = this.hasher.stateKey(namespace, id);
      const base = this.parent.readLatest(key) ?? null;
      e = new OverlayEntry(namespace, slot, key, base, base === null ? undefined : this.arena.bytes(base));
      this.entries.set(slot, e);
    }
    return e;
  }

  readRecord(namespace: number, id: Uint8Array): Uint8Array | undefined {
    const e = this.entry(namespace, id);
    if (e.record === undefined) e.record = encodeAccount(e.account!);
    return e.record ?? undefined;
  }

  private write(
    namespace: number,
    id: Uint8Array,
    record: Uint8Array | null | undefined,
    account?: AccountState,
  ): void {
    const e = this.entry(namespace, id);
    if (this.inTx && e.journaled !== this.tx) {
      e.journaled = this.tx;
      const i = this.savedCount++;
      this.saved[i] = e;
      this.savedRecord[i] = e.record;
      this.savedAccount[i] = e.account;
      this.savedDirty[i] = e.dirty;
    }
    e.record = record;
    e.account = account;
    e.dirty = true;
  }

  writeRecord(namespace: number, id: Uint8Array, record: Uint8Array | null): void {
    this.write(namespace, id, record);
  }

  // ---- StateReader ----

  getAccount(address: Uint8Array): AccountState {
    const e = this.entry(ACCOUNT_NS, address);
    if (e.account === undefined) e.account = e.record ? decodeAccount(e.record) : EMPTY_ACCOUNT;
    return e.account;
  }

  getValidator(owner: Uint8Array): ValidatorRecord | undefined {
    const bytes = this.readRecord(VALIDATOR_NS, owner);
    return bytes === undefined ? undefined : decodeValidatorRecord(bytes);
  }

  listValidators(): ValidatorRecord[] {
    const owners = new Map<string, Uint8Array>();
    for (const o of this.parent.validatorOwners()) owners.set(latin1(o), o);
    for (const e of this.entries.values()) {
      if (e.namespace === VALIDATOR_NS && e.dirty) owners.set(e.slot.slice(1), e.id);
    }
    const out: ValidatorRecord[] = [];
    for (const o of [...owners.values()].sort(compareBytes)) {
      const v = this.getValidator(o);
      if (v !== undefined) out.push(v);
    }
    return out;
  }

  getDevice(identityHash: Uint8Array): DeviceRecord | undefined {
    const bytes = this.readRecord(namespaceNumber('device'), identityHash);
    return bytes === undefined ? undefined : decodeDeviceRecord(bytes);
  }

  getService(serviceId: Uint8Array): ServiceRecord | undefined {
    const bytes = this.readRecord(namespaceNumber('service'), serviceId);
    return bytes === undefined ? undefined : decodeServiceRecord(bytes);
  }

  getFile(fileRoot: Uint8Array): FileRecord | undefined {
    const bytes = this.readRecord(namespaceNumber('file'), fileRoot);
    return bytes === undefined ? undefined : decodeFileRecord(bytes);
  }

  getRecord(namespace: NamespaceName, id: Uint8Array): Uint8Array | undefined {
    return this.readRecord(namespaceNumber(namespace), id);
  }

  // ---- StateWriter ----

  putAccount(address: Uint8Array, account: AccountState): void {
    this.write(ACCOUNT_NS, address, undefined, account);
  }

  putValidator(record: ValidatorRecord): void {
    this.writeRecord(VALIDATOR_NS, record.owner, encodeValidatorRecord(record));
  }

  putRecord(namespace: ConsensusNamespace, id: Uint8Array, bytes: Uint8Array | null): void {
    this.writeRecord(namespaceNumber(namespace), id, bytes === null ? null : bytes.slice());
  }
}
