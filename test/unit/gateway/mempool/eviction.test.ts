/** A full pool: who is evicted (sender tails, lowest fee per byte), who is refused, and never a gap. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Mempool, MempoolError } from '../../../../gateway/mempool/index.js';
import {
  ALL,
  expectRefused,
  type FakeState,
  ids,
  NOW,
  pool,
  rich,
  type SignedTx,
  selected,
  transfer,
} from './fixtures.js';

describe('eviction when full', () => {
  // maxTxs 3: alice holds nonces 0 (fee 1000, the cheapest) and 1 (5000); bob holds nonce 0 (3000).
  function full(): { m: Mempool; state: FakeState; a0: SignedTx; a1: SignedTx; b0: SignedTx } {
    const state = rich('alice', 'bob', 'carol');
    const m = pool({ maxTxs: 3 });
    const a0 = transfer({ sender: 'alice', nonce: 0, fee: 1000n });
    const a1 = transfer({ sender: 'alice', nonce: 1, fee: 5000n });
    const b0 = transfer({ sender: 'bob', nonce: 0, fee: 3000n });
    for (const t of [a0, a1, b0]) m.add(t.bytes, state, NOW);
    return { m, state, a0, a1, b0 };
  }

  it('evicts the lowest-rate sender tail, never a nonce in the middle of a queue', () => {
    const { m, state, a0, a1, b0 } = full();
    const c0 = transfer({ sender: 'carol', fee: 3001n });
    m.add(c0.bytes, state, NOW);
    // alice's nonce 0 pays least but evicting it would strand nonce 1: bob's tail goes.
    expect(m.has(b0.id)).toBe(false);
    expect(selected(m, state)).toEqual(ids([c0, a0, a1]));
  });

  it('refuses a newcomer that does not pay strictly more than the cheapest tail', () => {
    const { m, state } = full();
    expectRefused(m, transfer({ sender: 'carol', fee: 3000n }).bytes, state, 'MEMPOOL_FULL');
  });

  it("takes a sender's tail and then the entry below it when one eviction is not enough", () => {
    const state = rich('alice', 'bob', 'carol');
    const small = transfer().bytes.length;
    const big = transfer({ sender: 'carol', fee: 100_000n, memo: 64 });
    const m = pool({ maxBytes: 3 * small + (big.bytes.length - small) - 1 });
    const a0 = transfer({ sender: 'alice', nonce: 0, fee: 2000n });
    const b0 = transfer({ sender: 'bob', nonce: 0, fee: 1000n });
    const b1 = transfer({ sender: 'bob', nonce: 1, fee: 1500n });
    for (const t of [a0, b0, b1]) m.add(t.bytes, state, NOW);
    m.add(big.bytes, state, NOW);
    // bob's tail (1500) then bob's nonce 0 (1000) are cheaper than alice's 2000.
    expect(selected(m, state)).toEqual(ids([big, a0]));
    expect(m.bytes).toBeLessThanOrEqual(3 * small + (big.bytes.length - small) - 1);
  });

  it("does not evict the newcomer's own lower nonces (it needs them to execute)", () => {
    const state = rich('alice', 'bob');
    const m = pool({ maxTxs: 2 });
    m.add(transfer({ sender: 'alice', nonce: 0, fee: 1000n }).bytes, state, NOW);
    m.add(transfer({ sender: 'bob', nonce: 0, fee: 9000n }).bytes, state, NOW);
    expectRefused(m, transfer({ sender: 'alice', nonce: 1, fee: 8000n }).bytes, state, 'MEMPOOL_FULL');
  });

  it("lets a newcomer evict its own sender's tail above its nonce", () => {
    const state = rich('alice');
    const m = pool({ maxTxs: 2 });
    const a0 = transfer({ nonce: 0, fee: 1000n });
    const a2 = transfer({ nonce: 2, fee: 500n });
    const a1 = transfer({ nonce: 1, fee: 2000n });
    m.add(a0.bytes, state, NOW);
    m.add(a2.bytes, state, NOW);
    m.add(a1.bytes, state, NOW);
    expect(m.has(a2.id)).toBe(false);
    expect(selected(m, state)).toEqual(ids([a0, a1]));
  });

  it('never leaves a gap inside a sender queue and never exceeds its limits (property)', () => {
    const senders = ['s0', 's1', 's2', 's3', 's4'];
    const state = rich(...senders);
    // Every (sender, nonce, fee level) signed once: signing would dominate otherwise.
    const cache = new Map<string, SignedTx>();
    const tx = (s: number, nonce: number, fee: number): SignedTx => {
      const k = `${s}/${nonce}/${fee}`;
      let t = cache.get(k);
      if (t === undefined) {
        t = transfer({ sender: senders[s], nonce, fee: BigInt(fee * 100), memo: (fee * 7) % 30 });
        cache.set(k, t);
      }
      return t;
    };
    fc.assert(
      fc.property(
        fc.array(fc.record({ s: fc.nat(4), fee: fc.integer({ min: 1, max: 12 }) }), { maxLength: 40 }),
        fc.integer({ min: 1, max: 8 }),
        (sends, maxTxs) => {
          const maxBytes = maxTxs * 190;
          const m = pool({ maxTxs, maxBytes });
          // admitted[s][n]: the transaction admitted for sender s, nonce n (each sends its nonces in order).
          const admitted: SignedTx[][] = senders.map(() => []);
          let evictions = 0;
          for (const { s, fee } of sends) {
            // A sender whose tail was evicted sends again from its first missing nonce.
            const queue = admitted[s]!;
            while (queue.length > 0 && !m.has(queue[queue.length - 1]!.id)) queue.pop();
            const t = tx(s, queue.length, fee);
            const before = m.size;
            try {
              m.add(t.bytes, state, NOW);
              admitted[s]!.push(t);
              if (m.size <= before) evictions++;
            } catch (e) {
              if (!(e instanceof MempoolError) || e.code !== 'MEMPOOL_FULL') throw e;
            }
            expect(m.size).toBeLessThanOrEqual(maxTxs);
            expect(m.bytes).toBeLessThanOrEqual(maxBytes);
            for (const queue of admitted) {
              const held = queue.map((a) => m.has(a.id));
              const k = held.indexOf(false);
              // Held nonces are 0..k-1: evictions took tails only.
              if (k >= 0) expect(held.slice(k).every((h) => !h)).toBe(true);
            }
            expect(m.select(ALL, state, NOW).length).toBe(m.size);
          }
          return evictions >= 0;
        },
      ),
      { numRuns: 150 },
    );
  });
});
