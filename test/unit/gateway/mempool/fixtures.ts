/**
 * Mempool test fixtures: a fake StateReader over a Map of accounts (no mocked imports) and transfers signed
 * with the native backend (~40x faster to sign than noble, so property tests can afford hundreds).
 */
import { expect } from 'vitest';
import { toHex } from '../../../../core/bytes.js';
import { IosnetError } from '../../../../core/errors.js';
import { type AccountState, EMPTY_ACCOUNT } from '../../../../core/state.js';
import { encodeTx, signTx, type Transaction } from '../../../../core/tx.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { createMempool, type Mempool, type MempoolOptions } from '../../../../gateway/mempool/index.js';
import type { StateReader } from '../../../../gateway/state/interface.js';
import { TEST_CHAIN_ID, TEST_TIME } from '../../../helpers/chain.js';
import { type Ed25519TestKey, ed25519Key } from '../../../helpers/keys.js';
import { makeTxBody } from '../../../helpers/tx.js';

export const native = createNativeCrypto();
export const CHAIN_ID = TEST_CHAIN_ID;
export const T0 = TEST_TIME;
export const NOW = T0;
/** Limits no test pool reaches. */
export const ALL = { maxTxs: 1_000_000, maxBytes: 1 << 30 };

/** Accounts by address; absent = EMPTY_ACCOUNT (protocol.md §9). Counts reads, for select's laziness. */
export class FakeState implements StateReader {
  readonly height = 0;
  readonly accounts = new Map<string, AccountState>();
  reads = 0;

  getAccount(address: Uint8Array): AccountState {
    this.reads++;
    return this.accounts.get(toHex(address)) ?? EMPTY_ACCOUNT;
  }
  set(key: Ed25519TestKey, fields: Partial<AccountState>): this {
    this.accounts.set(toHex(key.address), { ...this.account(key), ...fields });
    return this;
  }
  account(key: Ed25519TestKey): AccountState {
    return this.accounts.get(toHex(key.address)) ?? EMPTY_ACCOUNT;
  }
  getValidator(): undefined {
    return undefined;
  }
  listValidators(): [] {
    return [];
  }
  getDevice(): undefined {
    return undefined;
  }
  getService(): undefined {
    return undefined;
  }
  getFile(): undefined {
    return undefined;
  }
  getRecord(): undefined {
    return undefined;
  }
}

export interface TransferOptions {
  readonly sender?: string;
  readonly nonce?: number;
  readonly fee?: bigint;
  readonly amount?: bigint;
  /** Memo length in bytes: changes the size (and so the fee per byte) at a given fee. */
  readonly memo?: number;
  readonly expiry?: number;
  readonly chainId?: string;
  /** Sign with this key's label instead of the sender's. */
  readonly signer?: string;
  /** Distinguishes otherwise equal transfers (goes into the memo's first byte). */
  readonly tag?: number;
}

export interface SignedTx {
  readonly tx: Transaction;
  readonly id: Uint8Array;
  readonly bytes: Uint8Array;
  readonly sender: Ed25519TestKey;
  readonly nonce: number;
  readonly fee: bigint;
  readonly amount: bigint;
  readonly expiry: number;
}

export function transfer(o: TransferOptions = {}): SignedTx {
  const sender = ed25519Key(o.sender ?? 'alice');
  const amount = o.amount ?? 100n;
  const memo = new Uint8Array(o.memo ?? 0);
  if (memo.length > 0) memo[0] = o.tag ?? 0;
  const body = makeTxBody('transfer', {
    sender,
    nonce: o.nonce ?? 0,
    fee: o.fee ?? 1000n,
    expiry: o.expiry ?? T0 + 60_000,
    chainId: o.chainId ?? CHAIN_ID,
    payload: { to: ed25519Key('bob').address, amount, memo },
  });
  const signer = o.signer === undefined ? sender : ed25519Key(o.signer);
  const { tx, id } = signTx(native, body, [signer.secretKey]);
  return {
    tx,
    id,
    bytes: encodeTx(tx),
    sender,
    nonce: body.nonce,
    fee: body.fee,
    amount,
    expiry: body.expiry,
  };
}

export function rich(...labels: string[]): FakeState {
  const state = new FakeState();
  for (const l of labels) state.set(ed25519Key(l), { balance: 10n ** 15n });
  return state;
}

export const hex = (b: Uint8Array): string => toHex(b);

export function pool(options: Partial<MempoolOptions> = {}): Mempool {
  return createMempool(options, { crypto: native, chainId: CHAIN_ID });
}

export const ids = (txs: readonly { id: Uint8Array }[]): string[] => txs.map((t) => hex(t.id));

/** Ids selected for a block, in order. */
export const selected = (m: Mempool, state: StateReader, limits = ALL, now = NOW): string[] =>
  ids(m.select(limits, state, now));

function snapshot(m: Mempool, state: StateReader): string {
  return JSON.stringify({ size: m.size, bytes: m.bytes, ids: selected(m, state) });
}

/** add() must throw `code` and leave the pool exactly as it was (size, bytes, what a block would take). */
export function expectRefused(
  m: Mempool,
  bytes: Uint8Array,
  state: StateReader,
  code: string,
  now = NOW,
): IosnetError {
  const before = snapshot(m, state);
  let caught: unknown;
  try {
    m.add(bytes, state, now);
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(IosnetError);
  expect((caught as IosnetError).code).toBe(code);
  expect(snapshot(m, state)).toBe(before);
  return caught as IosnetError;
}
