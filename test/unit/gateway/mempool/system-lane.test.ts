/**
 * System transactions (evidence, DKG, beacon) in the mempool: nonce- and fee-free, kept in their own
 * bounded lane, selected ahead of ordinary transactions, and droppable when a proposer finds them failing.
 */
import { describe, expect, it } from 'vitest';
import { DecodeError } from '../../../../core/errors.js';
import { encodeTx, signTx, type TxPayload } from '../../../../core/tx.js';
import { ed25519Key } from '../../../helpers/keys.js';
import { makeTxBody } from '../../../helpers/tx.js';
import {
  CHAIN_ID,
  expectRefused,
  FakeState,
  hex,
  NOW,
  native,
  pool,
  rich,
  selected,
  T0,
  transfer,
} from './fixtures.js';

function system(label: string, epoch: number, opts: { nonce?: number; fee?: bigint; expiry?: number } = {}) {
  const sender = ed25519Key(label);
  const payload: TxPayload = { kind: 'dkgComplaint', epoch, complaint: Uint8Array.of(epoch, 1, 2, 3) };
  const body = {
    ...makeTxBody('dkgComplaint', { sender, payload }),
    expiry: opts.expiry ?? T0 + 30_000,
    chainId: CHAIN_ID,
  };
  const { tx, id } = signTx(native, { ...body, nonce: opts.nonce ?? 0, fee: opts.fee ?? 0n }, [
    sender.secretKey,
  ]);
  return { tx, id, bytes: encodeTx(tx) };
}

describe('system transaction lane', () => {
  it('admits a system transaction from an account with no funds and no nonce history', () => {
    const m = pool();
    const empty = new FakeState();
    const s = system('validator-1', 3);
    m.add(s.bytes, empty, NOW);
    expect(m.size).toBe(1);
    expect(m.get(s.id)?.tx.body.payload.kind).toBe('dkgComplaint');
  });

  it('a system transaction with a nonce or a fee does not even decode', () => {
    expect(() => pool().add(system('v', 3, { nonce: 1 }).bytes, new FakeState(), NOW)).toThrow(DecodeError);
    expect(() => pool().add(system('v', 3, { fee: 1n }).bytes, new FakeState(), NOW)).toThrow(DecodeError);
  });

  it('is selected ahead of ordinary transactions, and ordinary selection is unchanged behind it', () => {
    const m = pool();
    const state = rich('alice');
    const t = transfer({ sender: 'alice', nonce: 0 });
    const s = system('validator-1', 3);
    m.add(t.bytes, state, NOW);
    m.add(s.bytes, state, NOW);
    expect(selected(m, state)).toEqual([hex(s.id), hex(t.id)]);
    expect(selected(m, state, { maxTxs: 1, maxBytes: 1 << 20 })).toEqual([hex(s.id)]);
  });

  it('refuses duplicates, and bounds the lane in all and per sender (sending one costs nothing)', () => {
    const m = pool({ maxSystemTxs: 3, maxSystemPerSender: 2 });
    const state = new FakeState();
    m.add(system('a', 3).bytes, state, NOW);
    expectRefused(m, system('a', 3).bytes, state, 'MEMPOOL_DUPLICATE');
    m.add(system('a', 4).bytes, state, NOW);
    expectRefused(m, system('a', 5).bytes, state, 'MEMPOOL_SENDER_LIMIT');
    m.add(system('b', 3).bytes, state, NOW);
    expectRefused(m, system('c', 3).bytes, state, 'MEMPOOL_FULL');
  });

  it('forgets what a proposer drops, what a block includes, and what expires', () => {
    const m = pool();
    const state = new FakeState();
    const [a, b, c] = [system('a', 3), system('b', 3), system('c', 3, { expiry: NOW + 1000 })];
    for (const s of [a, b, c]) m.add(s.bytes, state, NOW);
    m.drop([a.id]);
    expect(m.has(a.id)).toBe(false);
    m.onBlockCommitted([b.id], state, NOW);
    expect(m.has(b.id)).toBe(false);
    expectRefused(m, b.bytes, state, 'MEMPOOL_DUPLICATE');
    m.onBlockCommitted([], state, NOW + 2000);
    expect(m.size).toBe(0);
    expect(m.bytes).toBe(0);
  });

  it('checks the signature', () => {
    const m = pool();
    const s = system('a', 3);
    const forged = { ...s.tx, signatures: [new Uint8Array(64)] };
    expectRefused(m, encodeTx(forged), new FakeState(), 'VERIFY_BAD_SIGNATURE');
  });
});
