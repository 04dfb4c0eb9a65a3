/**
 * Transactions relayed by peers: admitted with every rule but the signature check, checked by confirm()
 * (a proposer, before it puts them in a block), and a forged relayed copy can never keep out the genuine
 * transaction a client submits.
 */
import { describe, expect, it } from 'vitest';
import { createMempool } from '../../../../gateway/mempool/index.js';
import { CHAIN_ID, expectRefused, hex, NOW, native, rich, transfer } from './fixtures.js';

/** A pool whose relay sample checks nothing on admission (sampleFraction near 0), or the ids in `checked`. */
function relayPool(checked: ReadonlySet<string> = new Set()) {
  const forged: { peer: string; id: string }[] = [];
  const m = createMempool(
    {},
    {
      crypto: native,
      chainId: CHAIN_ID,
      onForged: (peer, id) => forged.push({ peer, id: hex(id) }),
      relaySample: (id) => checked.has(hex(id)),
    },
  );
  return { m, forged };
}

describe('relayed transactions', () => {
  it('are admitted unchecked, and confirm() checks them once', () => {
    const state = rich('alice');
    const { m, forged } = relayPool();
    const t = transfer({ nonce: 0 });
    const p = m.add(t.bytes, state, NOW, { relayedBy: 'peer-1' });
    expect(p.verified).toBe(false);
    expect(p.relayedBy).toBe('peer-1');
    expect(m.confirm(p)).toBe(true);
    expect(p.verified).toBe(true);
    expect(m.has(t.id)).toBe(true);
    expect(forged).toEqual([]);
  });

  it('without a relay sample (sampleFraction 1) every relayed transaction is checked on admission', () => {
    const state = rich('alice');
    const m = createMempool({}, { crypto: native, chainId: CHAIN_ID });
    expectRefused(m, transfer({ nonce: 0, signer: 'mallory' }).bytes, state, 'VERIFY_BAD_SIGNATURE');
    expect(m.add(transfer({ nonce: 0 }).bytes, state, NOW, { relayedBy: 'peer-1' }).verified).toBe(true);
  });

  it('relayed transactions inside the sample are checked on admission', () => {
    const state = rich('alice');
    const bad = transfer({ nonce: 0, signer: 'mallory' });
    const { m } = relayPool(new Set([hex(bad.id)]));
    let caught: unknown;
    try {
      m.add(bad.bytes, state, NOW, { relayedBy: 'peer-1' });
    } catch (e) {
      caught = e;
    }
    expect((caught as { code?: string }).code).toBe('VERIFY_BAD_SIGNATURE');
    expect(m.size).toBe(0);
    expect(m.add(transfer({ nonce: 0 }).bytes, state, NOW, { relayedBy: 'peer-1' }).verified).toBe(true);
  });

  it('a client submission is checked at once and refused when forged', () => {
    const state = rich('alice');
    const { m } = relayPool();
    const bad = transfer({ nonce: 0, signer: 'mallory' });
    expectRefused(m, bad.bytes, state, 'VERIFY_BAD_SIGNATURE');
    expect(m.size).toBe(0);
    const good = transfer({ nonce: 0 });
    expect(m.add(good.bytes, state, NOW).verified).toBe(true);
  });

  it('confirm() removes a forged relayed transaction and reports its peer', () => {
    const state = rich('alice');
    const { m, forged } = relayPool();
    const bad = transfer({ nonce: 0, signer: 'mallory' });
    const p = m.add(bad.bytes, state, NOW, { relayedBy: 'peer-2' });
    expect(m.size).toBe(1);
    expect(m.confirm(p)).toBe(false);
    expect(m.size).toBe(0);
    expect(m.bytes).toBe(0);
    expect(forged).toEqual([{ peer: 'peer-2', id: hex(bad.id) }]);
  });

  it('a forged relayed copy (same id) gives way to the genuine transaction', () => {
    const state = rich('alice');
    const { m, forged } = relayPool();
    const bad = transfer({ nonce: 0, signer: 'mallory' });
    const good = transfer({ nonce: 0 });
    expect(hex(bad.id)).toBe(hex(good.id)); // the id covers the body, not the signatures
    m.add(bad.bytes, state, NOW, { relayedBy: 'peer-3' });
    const p = m.add(good.bytes, state, NOW);
    expect(p.verified).toBe(true);
    expect(m.get(good.id)?.bytes).toEqual(good.bytes);
    expect(m.size).toBe(1);
    expect(forged.map((f) => f.peer)).toEqual(['peer-3']);
  });

  it('a forged relayed transaction holding a nonce gives way to a genuine one with a lower fee', () => {
    const state = rich('alice');
    const { m, forged } = relayPool();
    const bad = transfer({ nonce: 0, fee: 5000n, signer: 'mallory' });
    m.add(bad.bytes, state, NOW, { relayedBy: 'peer-4' });
    const good = transfer({ nonce: 0, fee: 1000n });
    m.add(good.bytes, state, NOW);
    expect(m.has(good.id)).toBe(true);
    expect(m.has(bad.id)).toBe(false);
    expect(forged.map((f) => f.peer)).toEqual(['peer-4']);
  });

  it('a genuine relayed transaction still refuses a duplicate, and a too-cheap replacement', () => {
    const state = rich('alice');
    const { m, forged } = relayPool();
    const t = transfer({ nonce: 0, fee: 5000n });
    m.add(t.bytes, state, NOW, { relayedBy: 'peer-5' });
    expectRefused(m, t.bytes, state, 'MEMPOOL_DUPLICATE');
    expectRefused(m, transfer({ nonce: 0, fee: 1000n }).bytes, state, 'MEMPOOL_FEE_TOO_LOW');
    expect(m.size).toBe(1);
    expect(forged).toEqual([]);
  });
});
