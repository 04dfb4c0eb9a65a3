/** Block selection: nonce order per sender, fee per byte across senders, gaps, expiry, balances, limits. */
import { describe, expect, it } from 'vitest';
import { ed25519Key } from '../../../helpers/keys.js';
import { ALL, FakeState, ids, NOW, pool, rich, selected, transfer } from './fixtures.js';

describe('select', () => {
  it('keeps nonce order within a sender, whatever the arrival order and fees', () => {
    const state = rich('alice');
    const m = pool();
    const txs = [0, 1, 2, 3].map((n) => transfer({ nonce: n, fee: BigInt(1000 + 1000 * n) }));
    for (const t of [...txs].reverse()) m.add(t.bytes, state, NOW);
    expect(selected(m, state)).toEqual(ids(txs));
  });

  it('orders senders by fee per byte, then arrival', () => {
    const state = rich('alice', 'bob', 'carol', 'dave', 'erin');
    const m = pool();
    const a = transfer({ sender: 'alice', fee: 1000n });
    const b = transfer({ sender: 'bob', fee: 3000n });
    const c = transfer({ sender: 'carol', fee: 2000n });
    // Same fee as carol's but 60 bytes longer: a lower rate.
    const d = transfer({ sender: 'dave', fee: 2000n, memo: 60 });
    const e = transfer({ sender: 'erin', fee: 1000n }); // ties with alice: alice came first
    for (const t of [a, b, c, d, e]) m.add(t.bytes, state, NOW);
    expect(selected(m, state)).toEqual(ids([b, c, d, a, e]));
  });

  it('interleaves senders: each sender offers its next nonce once the previous one is taken', () => {
    const state = rich('alice', 'bob');
    const m = pool();
    const a0 = transfer({ sender: 'alice', nonce: 0, fee: 5000n });
    const a1 = transfer({ sender: 'alice', nonce: 1, fee: 1000n });
    const a2 = transfer({ sender: 'alice', nonce: 2, fee: 9000n });
    const b0 = transfer({ sender: 'bob', nonce: 0, fee: 3000n });
    const b1 = transfer({ sender: 'bob', nonce: 1, fee: 2000n });
    for (const t of [a0, a1, a2, b0, b1]) m.add(t.bytes, state, NOW);
    // a0 (5000) > b0 (3000) > b1 (2000) > a1 (1000), then a2 (its predecessor is in).
    expect(selected(m, state)).toEqual(ids([a0, b0, b1, a1, a2]));
  });

  it("starts at the state's nonce and skips senders with a gap", () => {
    const alice = ed25519Key('alice');
    const state = rich('alice', 'bob');
    const m = pool();
    const a = [0, 1, 2].map((n) => transfer({ sender: 'alice', nonce: n }));
    for (const t of a) m.add(t.bytes, state, NOW);
    const b1 = transfer({ sender: 'bob', nonce: 1 });
    const b2 = transfer({ sender: 'bob', nonce: 2 });
    m.add(b1.bytes, state, NOW);
    m.add(b2.bytes, state, NOW);
    expect(selected(m, state)).toEqual(ids(a));
    // The state moved on (a block this pool has not been told about): alice's nonce 0 is stale.
    state.set(alice, { nonce: 1 });
    expect(selected(m, state)).toEqual(ids(a.slice(1)));
    const b0 = transfer({ sender: 'bob', nonce: 0 });
    m.add(b0.bytes, state, NOW);
    expect(selected(m, state)).toEqual(ids([a[1]!, a[2]!, b0, b1, b2]));
  });

  it('ranks a sender by what it offers at its real nonce, not by a stale head', () => {
    const alice = ed25519Key('alice');
    const state = rich('alice', 'bob');
    const m = pool();
    const a0 = transfer({ sender: 'alice', nonce: 0, fee: 100n });
    const a1 = transfer({ sender: 'alice', nonce: 1, fee: 9000n });
    const b0 = transfer({ sender: 'bob', nonce: 0, fee: 5000n });
    for (const t of [a0, a1, b0]) m.add(t.bytes, state, NOW);
    state.set(alice, { nonce: 1 });
    expect(selected(m, state, { maxTxs: 1, maxBytes: 1 << 20 })).toEqual(ids([a1]));
  });

  it('skips expired transactions and what comes after them in the same sender', () => {
    const state = rich('alice', 'bob');
    const m = pool();
    const a0 = transfer({ sender: 'alice', nonce: 0, expiry: NOW + 1000 });
    const a1 = transfer({ sender: 'alice', nonce: 1, expiry: NOW + 5000 });
    const b0 = transfer({ sender: 'bob', nonce: 0, expiry: NOW + 5000 });
    for (const t of [a0, a1, b0]) m.add(t.bytes, state, NOW);
    expect(selected(m, state, ALL, NOW + 999)).toEqual(ids([a0, a1, b0]));
    expect(selected(m, state, ALL, NOW + 1000)).toEqual(ids([b0]));
  });

  it('stops a sender where its balance (as the state has it now) runs out', () => {
    const alice = ed25519Key('alice');
    const state = new FakeState().set(alice, { balance: 10_000n });
    const m = pool();
    const a = [0, 1, 2].map((n) => transfer({ nonce: n, fee: 1000n, amount: 1000n }));
    for (const t of a) m.add(t.bytes, state, NOW);
    state.set(alice, { balance: 4_000n });
    expect(selected(m, state)).toEqual(ids(a.slice(0, 2)));
  });

  it('respects maxTxs and maxBytes, filling leftover bytes with smaller transactions', () => {
    const state = rich('alice', 'bob', 'carol');
    const m = pool();
    const big = transfer({ sender: 'alice', fee: 100_000n, memo: 64 });
    const small1 = transfer({ sender: 'bob', fee: 1000n, memo: 10 });
    const small2 = transfer({ sender: 'carol', fee: 900n });
    for (const t of [big, small1, small2]) m.add(t.bytes, state, NOW);
    expect(selected(m, state, { maxTxs: 2, maxBytes: 1 << 20 })).toEqual(ids([big, small1]));
    // After big, small1 (next by rate) does not fit the bytes left; small2 does.
    const room = big.bytes.length + small2.bytes.length;
    expect(small1.bytes.length).toBeGreaterThan(small2.bytes.length);
    expect(selected(m, state, { maxTxs: 10, maxBytes: room })).toEqual(ids([big, small2]));
    expect(selected(m, state, { maxTxs: 0, maxBytes: 1 << 20 })).toEqual([]);
    expect(selected(m, state, { maxTxs: 10, maxBytes: 0 })).toEqual([]);
  });

  it('reads the state only for the senders it visits', () => {
    const state = new FakeState();
    const m = pool();
    for (let i = 0; i < 200; i++) {
      state.set(ed25519Key(`s${i}`), { balance: 10n ** 12n });
      m.add(transfer({ sender: `s${i}`, fee: BigInt(1000 + i) }).bytes, state, NOW);
    }
    state.reads = 0;
    const out = m.select({ maxTxs: 10, maxBytes: 1 << 20 }, state, NOW);
    expect(out.map((p) => p.tx.body.fee)).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(1199 - i)));
    expect(state.reads).toBe(10);
  });

  it('does not change the pool', () => {
    const state = rich('alice');
    const m = pool();
    m.add(transfer().bytes, state, NOW);
    m.select(ALL, state, NOW + 10 ** 9);
    expect(m.size).toBe(1);
  });
});
