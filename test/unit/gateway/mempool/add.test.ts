/**
 * Admission: the options, one test per refusal code (each refusal must leave the pool unchanged), and
 * same-sender, same-nonce replacement by a fee bump.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, DecodeError, VerifyError } from '../../../../core/errors.js';
import { MAX_TX_BYTES } from '../../../../core/tx.js';
import { MempoolError } from '../../../../gateway/mempool/index.js';
import { defaultMempoolOptions, resolveMempoolOptions } from '../../../../gateway/mempool/options.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { makeTx } from '../../../helpers/tx.js';
import {
  ALL,
  CHAIN_ID,
  expectRefused,
  FakeState,
  hex,
  NOW,
  pool,
  rich,
  selected,
  transfer,
} from './fixtures.js';

describe('options', () => {
  it('has the documented defaults', () => {
    expect(defaultMempoolOptions).toMatchObject({
      maxTxs: 50_000,
      maxBytes: 64 * 1024 * 1024,
      maxPerSender: 256,
      minFee: 0n,
      maxTtlMs: 3_600_000,
      replaceBumpPercent: 10,
    });
    expect(resolveMempoolOptions()).toEqual(defaultMempoolOptions);
  });
  it('refuses bad values naming the option', () => {
    for (const [name, value] of [
      ['maxTxs', 0],
      ['maxBytes', -1],
      ['maxPerSender', 1.5],
      ['maxTtlMs', Number.NaN],
      ['minFee', -1n],
      ['minFee', 1],
      ['recentIncludedIds', -1],
    ] as const) {
      expect(() => pool({ [name]: value })).toThrow(ArgumentError);
      expect(() => pool({ [name]: value })).toThrow(name);
    }
  });
});

describe('add', () => {
  it('admits a valid transaction and keeps its own copy of the bytes', () => {
    const m = pool();
    const state = rich('alice');
    const t = transfer();
    const input = t.bytes.slice();
    const p = m.add(input, state, NOW);
    expect(hex(p.id)).toBe(hex(t.id));
    expect(p.receivedAt).toBe(NOW);
    expect(p.tx.body.nonce).toBe(0);
    input.fill(0);
    expect(p.bytes).toEqual(t.bytes);
    expect(m.has(t.id)).toBe(true);
    expect(m.get(t.id)).toBe(p);
    expect(m.get(transfer({ nonce: 1 }).id)).toBeUndefined();
    expect(m.size).toBe(1);
    expect(m.bytes).toBe(t.bytes.length);
  });

  it('lets decode errors through unchanged', () => {
    const m = pool();
    const state = rich('alice');
    expect(expectRefused(m, Uint8Array.of(1, 2, 3), state, 'DECODE_UNEXPECTED_TYPE')).toBeInstanceOf(
      DecodeError,
    );
    expect(expectRefused(m, new Uint8Array(MAX_TX_BYTES + 1), state, 'DECODE_OVERSIZE')).toBeInstanceOf(
      DecodeError,
    );
    const t = transfer();
    expect(
      expectRefused(m, t.bytes.subarray(0, t.bytes.length - 1), state, 'DECODE_TRUNCATED'),
    ).toBeInstanceOf(DecodeError);
  });

  it('MEMPOOL_WRONG_CHAIN', () => {
    const e = expectRefused(
      pool(),
      transfer({ chainId: 'other' }).bytes,
      rich('alice'),
      'MEMPOOL_WRONG_CHAIN',
    );
    expect(e).toBeInstanceOf(MempoolError);
    expect(e.data).toEqual({ expected: CHAIN_ID, got: 'other' });
  });

  it('MEMPOOL_EXPIRED: expiry must be after now', () => {
    const state = rich('alice');
    expectRefused(pool(), transfer({ expiry: NOW }).bytes, state, 'MEMPOOL_EXPIRED');
    expectRefused(pool(), transfer({ expiry: NOW - 1 }).bytes, state, 'MEMPOOL_EXPIRED');
    pool().add(transfer({ expiry: NOW + 1 }).bytes, state, NOW);
  });

  it('MEMPOOL_TTL_TOO_LONG: expiry at most now + maxTtlMs', () => {
    const state = rich('alice');
    const m = pool({ maxTtlMs: 10_000 });
    expectRefused(m, transfer({ expiry: NOW + 10_001 }).bytes, state, 'MEMPOOL_TTL_TOO_LONG');
    m.add(transfer({ expiry: NOW + 10_000 }).bytes, state, NOW);
  });

  it('MEMPOOL_FEE_TOO_LOW: fee at least minFee', () => {
    const state = rich('alice');
    const m = pool({ minFee: 500n });
    const e = expectRefused(m, transfer({ fee: 499n }).bytes, state, 'MEMPOOL_FEE_TOO_LOW');
    expect(e.data).toEqual({ fee: 499n, required: 500n });
    m.add(transfer({ fee: 500n }).bytes, state, NOW);
  });

  it('MEMPOOL_UNSUPPORTED: atomix kinds', () => {
    const state = rich('alice');
    for (const kind of ['atomixLock', 'atomixCommit', 'atomixAbort'] as const) {
      // makeTx's defaults: nonce 7, expiry TEST_TIME + 1 h (= NOW + maxTtlMs, allowed).
      const e = expectRefused(pool(), makeTx(kind).bytes, state, 'MEMPOOL_UNSUPPORTED');
      expect(e.data).toEqual({ kind });
    }
  });

  it('accepts the other kinds, including the two-signature registerDevice', () => {
    const state = rich('alice').set(ed25519Key('alice'), { nonce: 7 });
    for (const kind of ['stake', 'unstake', 'registerDevice', 'review', 'storeFile'] as const) {
      const m = pool();
      m.add(makeTx(kind).bytes, state, NOW);
      expect(m.size).toBe(1);
    }
  });

  it('MEMPOOL_DUPLICATE: an id already held', () => {
    const m = pool();
    const state = rich('alice');
    const t = transfer();
    m.add(t.bytes, state, NOW);
    const e = expectRefused(m, t.bytes, state, 'MEMPOOL_DUPLICATE');
    expect(e.data).toEqual({ id: hex(t.id), included: false });
  });

  it('MEMPOOL_NONCE_TOO_LOW: a nonce the account has used', () => {
    const state = rich('alice').set(ed25519Key('alice'), { nonce: 5 });
    const e = expectRefused(pool(), transfer({ nonce: 4 }).bytes, state, 'MEMPOOL_NONCE_TOO_LOW');
    expect(e.data).toEqual({ nonce: 4, accountNonce: 5 });
  });

  it('MEMPOOL_NONCE_TOO_HIGH: beyond account.nonce + maxPerSender - 1', () => {
    const state = rich('alice').set(ed25519Key('alice'), { nonce: 5 });
    const m = pool({ maxPerSender: 4 });
    const e = expectRefused(m, transfer({ nonce: 9 }).bytes, state, 'MEMPOOL_NONCE_TOO_HIGH');
    expect(e.data).toEqual({ nonce: 9, maxNonce: 8 });
    m.add(transfer({ nonce: 8 }).bytes, state, NOW);
  });

  it('MEMPOOL_INSUFFICIENT_FUNDS: the queued transactions plus this one must be affordable', () => {
    const alice = ed25519Key('alice');
    const state = new FakeState().set(alice, { balance: 2_250n });
    const m = pool();
    expectRefused(m, transfer({ fee: 1_000n, amount: 1_251n }).bytes, state, 'MEMPOOL_INSUFFICIENT_FUNDS');
    m.add(transfer({ nonce: 0, fee: 1_000n, amount: 125n }).bytes, state, NOW);
    const e = expectRefused(
      m,
      transfer({ nonce: 1, fee: 1_000n, amount: 126n }).bytes,
      state,
      'MEMPOOL_INSUFFICIENT_FUNDS',
    );
    expect(e.data).toEqual({ required: 2_251n, balance: 2_250n });
    m.add(transfer({ nonce: 1, fee: 1_000n, amount: 125n }).bytes, state, NOW);
    // A replacement is counted instead of the transaction it replaces.
    m.add(transfer({ nonce: 1, fee: 1_100n, amount: 25n }).bytes, state, NOW);
    expect(m.size).toBe(2);
  });

  it('MEMPOOL_SENDER_LIMIT: at most maxPerSender entries, even when the state moved on unseen', () => {
    const alice = ed25519Key('alice');
    const state = rich('alice');
    const m = pool({ maxPerSender: 2 });
    m.add(transfer({ nonce: 0 }).bytes, state, NOW);
    m.add(transfer({ nonce: 1 }).bytes, state, NOW);
    // Nonce 0 was included through a block this pool was not told about yet.
    state.set(alice, { nonce: 1 });
    const e = expectRefused(m, transfer({ nonce: 2 }).bytes, state, 'MEMPOOL_SENDER_LIMIT');
    expect(e.data).toEqual({ limit: 2 });
    m.onBlockCommitted([], state, NOW);
    m.add(transfer({ nonce: 2 }).bytes, state, NOW);
    expect(m.size).toBe(2);
  });

  it('signatures: VerifyError, checked last', () => {
    const state = rich('alice');
    const m = pool();
    const wrongKey = transfer({ signer: 'mallory' });
    expect(expectRefused(m, wrongKey.bytes, state, 'VERIFY_BAD_SIGNATURE')).toBeInstanceOf(VerifyError);
    const flipped = transfer().bytes.slice();
    flipped[flipped.length - 1]! ^= 1;
    expectRefused(m, flipped, state, 'VERIFY_BAD_SIGNATURE');
    // A cheap check fails first even when the signature is bad too.
    expectRefused(m, transfer({ signer: 'mallory', nonce: 9_999 }).bytes, state, 'MEMPOOL_NONCE_TOO_HIGH');
    expectRefused(m, transfer({ signer: 'mallory', expiry: NOW }).bytes, state, 'MEMPOOL_EXPIRED');
  });

  it('MEMPOOL_FULL: by count and by bytes, when the newcomer does not pay more', () => {
    const state = rich('alice', 'bob', 'carol');
    const m = pool({ maxTxs: 2 });
    m.add(transfer({ sender: 'alice', fee: 1000n }).bytes, state, NOW);
    m.add(transfer({ sender: 'bob', fee: 1000n }).bytes, state, NOW);
    expectRefused(m, transfer({ sender: 'carol', fee: 1000n }).bytes, state, 'MEMPOOL_FULL');
    const size = transfer().bytes.length;
    const byBytes = pool({ maxBytes: 2 * size + 10 });
    byBytes.add(transfer({ sender: 'alice', fee: 1000n }).bytes, state, NOW);
    byBytes.add(transfer({ sender: 'bob', fee: 1000n }).bytes, state, NOW);
    expectRefused(byBytes, transfer({ sender: 'carol', fee: 1000n }).bytes, state, 'MEMPOOL_FULL');
    // A transaction larger than the whole pool never fits.
    expectRefused(pool({ maxBytes: size - 1 }), transfer().bytes, state, 'MEMPOOL_FULL');
  });

  it('checks its arguments', () => {
    const m = pool();
    const state = rich('alice');
    expect(() => m.add(transfer().bytes, state, -1)).toThrow(ArgumentError);
    expect(() => m.add(transfer().bytes, state, Number.NaN)).toThrow(ArgumentError);
    expect(() => m.select(ALL, state, Number.POSITIVE_INFINITY)).toThrow(ArgumentError);
    expect(() => m.add('x' as unknown as Uint8Array, state, NOW)).toThrow(DecodeError);
    expect(() => m.select({ maxTxs: -1, maxBytes: 10 }, state, NOW)).toThrow(ArgumentError);
    expect(() => m.has('x' as unknown as Uint8Array)).toThrow(ArgumentError);
    expect(() => m.onBlockCommitted([3 as unknown as Uint8Array], state, NOW)).toThrow(ArgumentError);
    expect(m.size).toBe(0);
    // A simulated clock may read fractions of a millisecond.
    m.add(transfer().bytes, state, NOW + 0.5);
    expect(m.size).toBe(1);
  });
});

describe('replacement', () => {
  it('a same-sender, same-nonce transaction paying >= 10% more replaces the queued one', () => {
    const state = rich('alice');
    const m = pool();
    const first = transfer({ fee: 1000n });
    m.add(first.bytes, state, NOW);
    const low = expectRefused(m, transfer({ fee: 1099n }).bytes, state, 'MEMPOOL_FEE_TOO_LOW');
    expect(low.data).toEqual({ fee: 1099n, required: 1100n, replaces: hex(first.id) });
    const second = transfer({ fee: 1100n, memo: 10 });
    const p = m.add(second.bytes, state, NOW);
    expect(hex(p.id)).toBe(hex(second.id));
    expect(m.has(first.id)).toBe(false);
    expect(m.size).toBe(1);
    expect(m.bytes).toBe(second.bytes.length);
    expect(selected(m, state)).toEqual([hex(second.id)]);
  });

  it('a zero fee must still go up by at least 1', () => {
    const state = rich('alice');
    const m = pool();
    m.add(transfer({ fee: 0n }).bytes, state, NOW);
    expectRefused(m, transfer({ fee: 0n, tag: 1, memo: 1 }).bytes, state, 'MEMPOOL_FEE_TOO_LOW');
    m.add(transfer({ fee: 1n }).bytes, state, NOW);
  });

  it('rounds the required fee up', () => {
    const state = rich('alice');
    const m = pool({ replaceBumpPercent: 10 });
    m.add(transfer({ fee: 15n }).bytes, state, NOW); // 16.5 -> 17
    expectRefused(m, transfer({ fee: 16n }).bytes, state, 'MEMPOOL_FEE_TOO_LOW');
    m.add(transfer({ fee: 17n }).bytes, state, NOW);
  });
});
