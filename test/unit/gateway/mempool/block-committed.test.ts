/** After a block: included, stale and expired entries leave; replays of included ids are refused. */
import { describe, expect, it } from 'vitest';
import { ed25519Key } from '../../../helpers/keys.js';
import { ALL, expectRefused, FakeState, hex, ids, NOW, pool, rich, selected, transfer } from './fixtures.js';

describe('onBlockCommitted', () => {
  it('drops included transactions and refuses their replay before the state catches up', () => {
    const alice = ed25519Key('alice');
    const state = rich('alice');
    const m = pool();
    const t0 = transfer({ nonce: 0 });
    const t1 = transfer({ nonce: 1 });
    m.add(t0.bytes, state, NOW);
    m.add(t1.bytes, state, NOW);
    // The state the caller passes still lags behind the block.
    m.onBlockCommitted([t0.id], state, NOW);
    expect(m.has(t0.id)).toBe(false);
    expect(m.size).toBe(1);
    const e = expectRefused(m, t0.bytes, state, 'MEMPOOL_DUPLICATE');
    expect(e.data).toEqual({ id: hex(t0.id), included: true });
    state.set(alice, { nonce: 1 });
    expectRefused(m, t0.bytes, state, 'MEMPOOL_DUPLICATE');
  });

  it('forgets included ids beyond recentIncludedIds; the nonce check still refuses the replay', () => {
    const alice = ed25519Key('alice');
    const state = rich('alice');
    const m = pool({ recentIncludedIds: 1 });
    const t0 = transfer({ nonce: 0 });
    m.add(t0.bytes, state, NOW);
    m.onBlockCommitted([t0.id], state, NOW);
    m.onBlockCommitted([transfer({ nonce: 99 }).id], state, NOW);
    state.set(alice, { nonce: 1 });
    expectRefused(m, t0.bytes, state, 'MEMPOOL_NONCE_TOO_LOW');
  });

  it('drops entries the new state makes stale, and expired ones', () => {
    const alice = ed25519Key('alice');
    const bob = ed25519Key('bob');
    const state = rich('alice', 'bob', 'carol');
    const m = pool();
    const a = [0, 1, 2].map((n) => transfer({ sender: 'alice', nonce: n }));
    const b0 = transfer({ sender: 'bob', nonce: 0 });
    const c0 = transfer({ sender: 'carol', nonce: 0, expiry: NOW + 1000 });
    for (const t of [...a, b0, c0]) m.add(t.bytes, state, NOW);
    // The block held alice's nonce 0 and, unknown to us, a different bob transaction with nonce 0.
    state.set(alice, { nonce: 1 }).set(bob, { nonce: 1 });
    m.onBlockCommitted([a[0]!.id, transfer({ sender: 'bob', nonce: 0, fee: 1n }).id], state, NOW + 1000);
    expect(m.size).toBe(2);
    expect(selected(m, state, ALL, NOW + 1000)).toEqual(ids(a.slice(1)));
    expect(m.bytes).toBe(a[1]!.bytes.length + a[2]!.bytes.length);
  });

  it('re-reads at most recheckSendersPerBlock other senders per block, round robin', () => {
    const state = new FakeState();
    const m = pool({ recheckSendersPerBlock: 3 });
    const txs = Array.from({ length: 10 }, (_, i) => {
      state.set(ed25519Key(`s${i}`), { balance: 10n ** 12n });
      const t = transfer({ sender: `s${i}` });
      m.add(t.bytes, state, NOW);
      return t;
    });
    // Every sender's nonce moved through transactions this pool never held.
    for (let i = 0; i < 10; i++) state.set(ed25519Key(`s${i}`), { nonce: 1 });
    state.reads = 0;
    m.onBlockCommitted([], state, NOW);
    expect(state.reads).toBe(3);
    expect(m.size).toBe(7);
    for (let k = 0; k < 3; k++) m.onBlockCommitted([], state, NOW);
    expect(m.size).toBe(0);
    expect(txs.some((t) => m.has(t.id))).toBe(false);
  });
});
