/**
 * buildBlock's choice of transactions (docs/consensus.md §5): a proposer confirms at most maxConfirms relayed
 * transactions that arrived unchecked, and once one of a sender's transactions is left out (past that budget,
 * forged, or failing to apply) the sender's later nonces are not tried in that block. The chain state is a
 * fake whose execution records what it was asked to apply (buildBlock is the module under test).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CHAIN_PARAMS } from '../../../../core/genesis.js';
import type { Transaction } from '../../../../core/tx.js';
import { buildBlock } from '../../../../gateway/consensus/blocks.js';
import { createMempool } from '../../../../gateway/mempool/index.js';
import {
  type BlockContext,
  type BlockExecution,
  type ChainState,
  TxError,
} from '../../../../gateway/state/interface.js';
import { CHAIN_ID, type FakeState, hex, NOW, native, rich, transfer } from '../mempool/fixtures.js';

/** A chain state whose executions record each apply and refuse the transactions in `failing`. */
function fakeChain(state: FakeState, failing: ReadonlySet<string> = new Set()) {
  const applied: string[] = [];
  const chain = Object.assign(Object.create(state) as FakeState, {
    beginBlock(ctx: BlockContext): BlockExecution {
      return Object.assign(Object.create(state) as FakeState, {
        context: ctx,
        apply(_tx: Transaction, id: Uint8Array) {
          applied.push(hex(id));
          if (failing.has(hex(id))) throw new TxError('TX_BAD_NONCE', 'refused by the test');
        },
        finish: () => new Uint8Array(32),
      });
    },
  }) as unknown as ChainState;
  return { chain, applied };
}

const ctx: BlockContext = {
  chainId: CHAIN_ID,
  shard: 0,
  height: 1,
  epoch: 0,
  view: 0,
  time: NOW + 1,
  proposerOwner: new Uint8Array(32),
  lastCommit: null,
  params: DEFAULT_CHAIN_PARAMS,
};
const parent = { height: 0, id: new Uint8Array(32), time: NOW, certificate: null };

function build(chain: ChainState, mempool: ReturnType<typeof createMempool>, maxConfirms: number) {
  const built = buildBlock(
    native,
    { state: chain, mempool },
    ctx,
    parent,
    0,
    () => new Uint8Array(96),
    { maxTxs: 1000, maxBytes: 1 << 20, maxConfirms },
    NOW,
  );
  return built.parsed.txIds.map(hex);
}

describe('buildBlock', () => {
  it('past the confirm budget, an unchecked transaction waits and its sender’s later nonces are not tried', () => {
    const state = rich('alice', 'carol');
    // Nothing relayed is checked on admission (a sample that takes nothing).
    const mempool = createMempool({}, { crypto: native, chainId: CHAIN_ID, relaySample: () => false });
    const a0 = transfer({ sender: 'alice', nonce: 0 });
    const a1 = transfer({ sender: 'alice', nonce: 1 });
    const c0 = transfer({ sender: 'carol', nonce: 0 });
    mempool.add(a0.bytes, state, NOW, { relayedBy: 'peer' }); // unchecked
    mempool.add(a1.bytes, state, NOW); // a client's: checked
    mempool.add(c0.bytes, state, NOW); // checked
    const { chain, applied } = fakeChain(state);
    const ids = build(chain, mempool, 0);
    expect(ids).toEqual([hex(c0.id)]);
    expect(applied).toEqual([hex(c0.id)]);
    // With a budget, the unchecked one is confirmed and both of alice's go in.
    const again = fakeChain(state);
    expect(build(again.chain, mempool, 1).sort()).toEqual([a0, a1, c0].map((t) => hex(t.id)).sort());
  });

  it('a transaction that fails to apply stops its sender, not the others', () => {
    const state = rich('alice', 'carol');
    const mempool = createMempool({}, { crypto: native, chainId: CHAIN_ID });
    const a = [0, 1, 2].map((nonce) => transfer({ sender: 'alice', nonce }));
    const c = [0, 1].map((nonce) => transfer({ sender: 'carol', nonce }));
    for (const t of [...a, ...c]) mempool.add(t.bytes, state, NOW);
    const { chain, applied } = fakeChain(state, new Set([hex(a[1]!.id)]));
    const ids = build(chain, mempool, 0);
    expect(ids.sort()).toEqual([a[0]!, c[0]!, c[1]!].map((t) => hex(t.id)).sort());
    // alice's nonce 2 was never tried after nonce 1 failed.
    expect(applied).not.toContain(hex(a[2]!.id));
    expect(applied.filter((id) => id === hex(a[1]!.id))).toHaveLength(1);
  });

  it('a forged relayed transaction is dropped and its sender’s later nonces wait', () => {
    const state = rich('alice', 'carol');
    const forged: string[] = [];
    const mempool = createMempool(
      {},
      {
        crypto: native,
        chainId: CHAIN_ID,
        relaySample: () => false,
        onForged: (_p, id) => forged.push(hex(id)),
      },
    );
    const bad = transfer({ sender: 'alice', nonce: 0, signer: 'mallory' });
    const a1 = transfer({ sender: 'alice', nonce: 1 });
    const c0 = transfer({ sender: 'carol', nonce: 0 });
    mempool.add(bad.bytes, state, NOW, { relayedBy: 'peer' });
    mempool.add(a1.bytes, state, NOW);
    mempool.add(c0.bytes, state, NOW);
    const { chain, applied } = fakeChain(state);
    expect(build(chain, mempool, 10)).toEqual([hex(c0.id)]);
    expect(applied).toEqual([hex(c0.id)]);
    expect(forged).toEqual([hex(bad.id)]);
    expect(mempool.has(bad.id)).toBe(false);
    expect(mempool.has(a1.id)).toBe(true);
  });
});
