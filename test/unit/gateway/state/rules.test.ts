import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { utf8 } from '../../../../core/bytes.js';
import { addressOf, deviceIdentityHash } from '../../../../core/identity.js';
import { assertTotalSupply, IOST_UNIT, TOTAL_SUPPLY } from '../../../../core/token.js';
import { type BlockExecution, TxError } from '../../../../gateway/state/interface.js';
import { reviewIdOf, serviceIdOf } from '../../../../gateway/state/keys.js';
import { decodeReviewRecord } from '../../../../gateway/state/records.js';
import { fakeHash } from '../../../helpers/chain.js';
import { blsKey, blsPop, ed25519Key } from '../../../helpers/keys.js';
import {
  context,
  crypto,
  type Harness,
  openHarness,
  type SignedTx,
  STATE_PARAMS,
  sign,
  transfer,
  validatorKey,
  whale,
} from './helpers.js';

let h: Harness;
beforeEach(() => {
  h = openHarness();
});
afterEach(async () => {
  await h.close();
});

const alice = ed25519Key('rules/alice');
const bob = ed25519Key('rules/bob');

/** Runs one block of txs, commits it, checks the supply; returns the execution. */
function block(txs: SignedTx[], overrides = {}): BlockExecution {
  const x = h.state.beginBlock(context(h.state.height + 1, overrides));
  for (const t of txs) x.apply(t.tx, t.id);
  x.finish();
  h.state.commit(x);
  assertTotalSupply(h.state.accounts());
  return x;
}

function expectTxError(x: BlockExecution, t: SignedTx, code: string): void {
  const before = [...(x as unknown as { entries: Map<string, unknown> }).entries.entries()].filter(
    ([, e]) => (e as { dirty: boolean }).dirty,
  );
  expect(() => x.apply(t.tx, t.id)).toThrow(expect.objectContaining({ code }));
  const after = [...(x as unknown as { entries: Map<string, unknown> }).entries.entries()].filter(
    ([, e]) => (e as { dirty: boolean }).dirty,
  );
  expect(after).toEqual(before);
}

/** Funds alice with 1,000,000 IOST liquid. */
function fundAlice(amount = 1_000_000n * IOST_UNIT): void {
  block([transfer(whale(), alice.address, amount, h.state.getAccount(whale().address).nonce)]);
}

describe('genesis', () => {
  it('holds every allocation and registers the genesis validators', () => {
    expect(h.state.height).toBe(0);
    expect(h.state.totalSupply()).toBe(TOTAL_SUPPLY);
    const validators = h.state.listValidators();
    expect(validators).toHaveLength(2);
    for (const v of validators) {
      expect(v.registeredHeight).toBe(0);
      expect(v.slashed).toBe(false);
      expect(h.state.getAccount(v.owner).staked).toBe(STATE_PARAMS.minValidatorStake);
      expect(h.state.getRecord('blsKey', v.blsPublicKey)).toEqual(v.owner);
    }
    for (const a of h.genesis.allocations) {
      const acc = h.state.getAccount(a.address);
      expect([acc.balance, acc.staked]).toEqual([a.liquid, a.staked]);
    }
  });
});

describe('common checks', () => {
  it('refuses wrong chain, expiry, nonce, funds and shard, leaving the overlay unchanged', () => {
    fundAlice();
    const x = h.state.beginBlock(context(h.state.height + 1));
    expectTxError(x, sign(alice, { kind: 'stake', amount: 1n }, 0, { chainId: 'other' }), 'TX_WRONG_CHAIN');
    expectTxError(x, sign(alice, { kind: 'stake', amount: 1n }, 0, { expiry: 1 }), 'TX_EXPIRED');
    expectTxError(x, sign(alice, { kind: 'stake', amount: 1n }, 5), 'TX_BAD_NONCE');
    expectTxError(x, transfer(alice, bob.address, 2_000_000n * IOST_UNIT, 0), 'TX_INSUFFICIENT_FUNDS');
    expectTxError(x, sign(bob, { kind: 'stake', amount: 1n }, 0), 'TX_INSUFFICIENT_FUNDS');
    const bad = transfer(alice, bob.address, 1n, 0);
    const forged = { ...bad.tx, signatures: [new Uint8Array(64)] };
    expect(() => x.apply(forged, bad.id)).toThrow(expect.objectContaining({ code: 'VERIFY_BAD_SIGNATURE' }));
    expectTxError(
      x,
      sign(
        alice,
        { kind: 'atomixLock', crossTx: { salt: new Uint8Array(16), inputs: [], outputs: [] }, inputIndex: 0 },
        0,
      ),
      'TX_UNSUPPORTED',
    );
    x.apply(bad.tx, bad.id);
  });

  it('skips signature checks where the predicate says so', () => {
    fundAlice();
    const t = transfer(alice, bob.address, 1n, 0);
    const forged = { ...t.tx, signatures: [new Uint8Array(64)] };
    const x = h.state.beginBlock(context(h.state.height + 1), { verifySignatures: (i) => i !== 0 });
    x.apply(forged, t.id);
  });

  it('charges the fee and nonce and pays the fee to the proposer', () => {
    fundAlice();
    const proposer = validatorKey(1).address;
    const before = h.state.getAccount(proposer).balance;
    block([transfer(alice, bob.address, 5n, 0, 777n)], { proposerOwner: proposer });
    expect(h.state.getAccount(alice.address)).toMatchObject({
      nonce: 1,
      balance: 1_000_000n * IOST_UNIT - 782n,
    });
    expect(h.state.getAccount(bob.address).balance).toBe(5n);
    expect(h.state.getAccount(proposer).balance).toBe(before + 777n);
  });

  it('refuses a transfer to another shard and a sender of another shard', async () => {
    await h.close();
    h = openHarness({ genesis: (await import('./helpers.js')).stateGenesis(STATE_PARAMS, 4) });
    expect(h.state.totalSupply()).toBeLessThan(TOTAL_SUPPLY);
    const { shardOf } = await import('../../../../core/identity.js');
    let far = 0;
    while (shardOf(ed25519Key(`far/${far}`).address, 4) === 0) far++;
    let near = 0;
    while (shardOf(ed25519Key(`near/${near}`).address, 4) !== 0) near++;
    const x = h.state.beginBlock(context(1));
    expectTxError(x, sign(ed25519Key(`far/${far}`), { kind: 'stake', amount: 1n }, 0), 'TX_WRONG_SHARD');
    const rich = h.genesis.allocations.find((a) => shardOf(a.address, 4) === 0 && a.liquid > 0n)!;
    const owner = ['privateSale', 'foundation', 'communityIncentives', 'team', 'earlyInvestorsAdvisors']
      .map((b) => ed25519Key(`owner/${b}`))
      .find((k) => addressOf(crypto, k.publicKey).every((b, i) => b === rich.address[i]));
    if (owner) {
      expectTxError(x, transfer(owner, ed25519Key(`far/${far}`).address, 1n, 0), 'TX_WRONG_SHARD');
      x.apply(
        transfer(owner, ed25519Key(`near/${near}`).address, 1n, 0).tx,
        transfer(owner, ed25519Key(`near/${near}`).address, 1n, 0).id,
      );
    }
  });
});

describe('stake, unstake and unbonding release', () => {
  it('moves balance to staked, staked to unbonding, and releases lazily at the epoch', () => {
    fundAlice();
    block([sign(alice, { kind: 'stake', amount: 400n }, 0)]);
    expect(h.state.getAccount(alice.address)).toMatchObject({ staked: 400n });
    const x = h.state.beginBlock(context(h.state.height + 1));
    expectTxError(x, sign(alice, { kind: 'unstake', amount: 401n }, 1), 'TX_INSUFFICIENT_FUNDS');
    x.apply(
      sign(alice, { kind: 'unstake', amount: 100n }, 1).tx,
      sign(alice, { kind: 'unstake', amount: 100n }, 1).id,
    );
    x.finish();
    h.state.commit(x);
    expect(h.state.getAccount(alice.address)).toMatchObject({
      staked: 300n,
      unbonding: 100n,
      unbondingEpoch: 2,
    });
    block([sign(alice, { kind: 'unstake', amount: 50n }, 2)], { epoch: 1 });
    expect(h.state.getAccount(alice.address)).toMatchObject({ unbonding: 150n, unbondingEpoch: 3 });
    const balance = h.state.getAccount(alice.address).balance;
    block([transfer(alice, bob.address, 1n, 3, 0n)], { epoch: 2 });
    expect(h.state.getAccount(alice.address)).toMatchObject({ unbonding: 150n, balance: balance - 1n });
    block([transfer(alice, bob.address, 1n, 4, 0n)], { epoch: 3 });
    expect(h.state.getAccount(alice.address)).toMatchObject({
      unbonding: 0n,
      unbondingEpoch: 0,
      balance: balance + 148n,
    });
  });
});

describe('registrations', () => {
  it('registers a validator once per owner and BLS key, checking the proof of possession', () => {
    fundAlice();
    const bls = blsKey('rules/alice-bls');
    const reg = (nonce: number, key = bls, pop = blsPop(bls)) =>
      sign(
        alice,
        { kind: 'registerValidator', blsPublicKey: key.publicKey, blsPop: pop, endpoint: '1.2.3.4:7400' },
        nonce,
      );
    const x = h.state.beginBlock(context(h.state.height + 1));
    expectTxError(x, reg(0, bls, blsPop(blsKey('rules/other'))), 'TX_INVALID');
    const taken = h.state.listValidators()[0]!;
    expectTxError(
      x,
      sign(
        alice,
        {
          kind: 'registerValidator',
          blsPublicKey: taken.blsPublicKey,
          blsPop: blsPop(blsKey('validator/0')),
          endpoint: 'x:1',
        },
        0,
      ),
      'TX_DUPLICATE',
    );
    x.apply(reg(0).tx, reg(0).id);
    expectTxError(x, reg(1), 'TX_DUPLICATE');
    x.finish();
    h.state.commit(x);
    const v = h.state.getValidator(alice.address)!;
    expect(v).toMatchObject({
      endpoint: '1.2.3.4:7400',
      servi: 0,
      slashed: false,
      registeredHeight: h.state.height,
    });
    expect(h.state.listValidators()).toHaveLength(3);
  });

  it('registers a device co-signed by its key, once', () => {
    fundAlice();
    const device = ed25519Key('rules/device');
    const payload = {
      kind: 'registerDevice' as const,
      devicePublicKey: device.publicKey,
      boardId: 'rpi4',
      hardwareSerial: 'S1',
    };
    block([sign(alice, payload, 0, {}, [device])]);
    const id = deviceIdentityHash(crypto, 'rpi4', device.publicKey, 'S1');
    expect(h.state.getDevice(id)).toMatchObject({ owner: alice.address, boardId: 'rpi4' });
    const x = h.state.beginBlock(context(h.state.height + 1));
    expectTxError(x, sign(alice, payload, 1, {}, [device]), 'TX_DUPLICATE');
  });

  it('stores a file once', () => {
    fundAlice();
    const payload = {
      kind: 'storeFile' as const,
      fileRoot: fakeHash('f'),
      size: 10,
      chunkSize: 4,
      replication: 2,
      name: 'f.bin',
    };
    block([sign(alice, payload, 0)]);
    expect(h.state.getFile(fakeHash('f'))).toMatchObject({
      owner: alice.address,
      storedHeight: h.state.height,
    });
    const x = h.state.beginBlock(context(h.state.height + 1));
    expectTxError(x, sign(alice, payload, 1), 'TX_DUPLICATE');
  });

  it('registers and updates a service by its provider', () => {
    fundAlice();
    const reg = (nonce: number, price: bigint) =>
      sign(
        alice,
        { kind: 'registerService', name: 'weather', price, descriptionHash: fakeHash(`d${price}`) },
        nonce,
      );
    block([reg(0, 5n)]);
    const id = serviceIdOf(crypto, alice.address, 'weather');
    const first = h.state.getService(id)!;
    block([reg(1, 9n)]);
    expect(h.state.getService(id)).toEqual({ ...first, price: 9n, descriptionHash: fakeHash('d9') });
    expect(serviceIdOf(crypto, bob.address, 'weather')).not.toEqual(id);
  });
});

describe('reviews', () => {
  it('weights by stake, replaces an earlier review and feeds the provider validator', () => {
    const provider = validatorKey(0);
    block([
      transfer(whale(), provider.address, 10n * IOST_UNIT, 0),
      transfer(whale(), alice.address, 1_000n * IOST_UNIT, 1),
    ]);
    block([
      sign(
        provider,
        { kind: 'registerService', name: 'relay', price: 1n, descriptionHash: fakeHash('r') },
        0,
      ),
      sign(alice, { kind: 'stake', amount: 300n * IOST_UNIT + 5n }, 0),
    ]);
    const serviceId = serviceIdOf(crypto, provider.address, 'relay');
    const review = (from: typeof alice, nonce: number, rating: number, id = serviceId) =>
      sign(from, { kind: 'review', serviceId: id, rating, commentHash: fakeHash('c') }, nonce);
    const x = h.state.beginBlock(context(h.state.height + 1));
    expectTxError(x, review(alice, 1, 5, fakeHash('nope')), 'TX_NOT_FOUND');
    expectTxError(x, review(provider, 1, 5), 'TX_FORBIDDEN');
    x.apply(review(alice, 1, 5).tx, review(alice, 1, 5).id);
    x.finish();
    h.state.commit(x);
    expect(h.state.getService(serviceId)).toMatchObject({
      reviewCount: 1,
      reviewScoreSum: 1200n,
      reviewStakeSum: 300n,
    });
    expect(h.state.getValidator(provider.address)).toMatchObject({
      reviewScoreSum: 1200n,
      reviewStakeSum: 300n,
    });
    block([review(alice, 2, 2)]);
    expect(h.state.getService(serviceId)).toMatchObject({
      reviewCount: 1,
      reviewScoreSum: 300n,
      reviewStakeSum: 300n,
    });
    expect(h.state.getValidator(provider.address)).toMatchObject({
      reviewScoreSum: 300n,
      reviewStakeSum: 300n,
    });
    const stored = decodeReviewRecord(h.state.getRecord('review', reviewIdOf(alice.address, serviceId))!);
    expect(stored).toMatchObject({ rating: 2, weight: 300n, countedForValidator: true });
    expect(utf8('relay')).toBeDefined();
  });
});

describe('system transactions', () => {
  it('touch neither fee nor nonce, call the hooks, and a hook failure undoes everything', async () => {
    await h.close();
    const calls: string[] = [];
    h = openHarness({
      hooks: {
        initGenesis: () => calls.push('init'),
        beginBlock: () => calls.push('begin'),
        applySystemTx: (_ctx, tx, _id, state) => {
          calls.push(tx.body.payload.kind);
          state.putRecord('dkg', Uint8Array.of(tx.body.payload.kind === 'beacon' ? 2 : 1), Uint8Array.of(9));
          if (tx.body.payload.kind === 'beacon') throw new TxError('TX_INVALID', 'refused by the hook', {});
        },
        endBlock: () => calls.push('end'),
      },
    });
    fundAlice();
    const before = h.state.getAccount(alice.address);
    const system = { fee: 0n };
    const x = h.state.beginBlock(context(h.state.height + 1));
    const deal = sign(alice, { kind: 'dkgDeal', epoch: 1, dealing: Uint8Array.of(1) }, 0, system);
    x.apply(deal.tx, deal.id);
    expectTxError(
      x,
      sign(alice, { kind: 'beacon', epoch: 1, signature: new Uint8Array(96) }, 0, system),
      'TX_INVALID',
    );
    x.finish();
    h.state.commit(x);
    expect(calls).toEqual(['init', 'begin', 'end', 'begin', 'dkgDeal', 'beacon', 'end']);
    // Nonce-free and fee-free (core/tx.ts SYSTEM_TX_KINDS): the account is untouched.
    expect(h.state.getAccount(alice.address)).toEqual(before);
    expect(h.state.getRecord('dkg', Uint8Array.of(1))).toEqual(Uint8Array.of(9));
    // The refused beacon's write was undone with it.
    expect(h.state.getRecord('dkg', Uint8Array.of(2))).toBeUndefined();
  });

  it('refuses system transactions without consensus hooks', () => {
    fundAlice();
    const x = h.state.beginBlock(context(h.state.height + 1));
    expectTxError(
      x,
      sign(alice, { kind: 'dkgDeal', epoch: 1, dealing: Uint8Array.of(1) }, 0),
      'TX_UNSUPPORTED',
    );
  });
});
