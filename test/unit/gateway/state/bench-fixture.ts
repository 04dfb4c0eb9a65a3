/**
 * The storage and state benchmarks' chain: a single-shard genesis whose private-sale share is spread over
 * N accounts (public keys sha256(i), so no keys are generated), and blocks of random transfers among them
 * with placeholder signatures (the benchmarks run with signature checks off, as consensus does when it has
 * verified signatures separately).
 */
import { compareBytes, u64be } from '../../../../core/bytes.js';
import type { Crypto } from '../../../../core/crypto.js';
import {
  type Allocation,
  type ChainParams,
  type Genesis,
  validateGenesis,
} from '../../../../core/genesis.js';
import { addressOf, blsPopMessage } from '../../../../core/identity.js';
import { bucketAmount } from '../../../../core/token.js';
import type { Transaction } from '../../../../core/tx.js';
import { encodeTxBody, txIdOfBody } from '../../../../core/tx.js';
import type { BlockContext } from '../../../../gateway/state/interface.js';

export const BENCH_CHAIN_ID = 'iosnet-bench';
export const BENCH_TIME = 1_767_225_600_000;

export interface BenchChain {
  readonly genesis: Genesis;
  readonly publicKeys: Uint8Array[];
  readonly nonces: number[];
  readonly proposerOwner: Uint8Array;
}

export function benchGenesis(crypto: Crypto, accounts: number, stateBlockInterval = 16): BenchChain {
  const params: ChainParams = {
    blockIntervalMs: 500,
    stateBlockInterval,
    epochLength: stateBlockInterval * 16,
    committeeSize: 4,
    leagueSize: 1,
    minValidatorStake: 1_000_000n * 100_000_000n,
    unbondingEpochs: 2,
    maxBlockTxs: 10_000,
  };
  const publicKeys = Array.from({ length: accounts }, (_, i) => crypto.sha256(u64be(i)));
  const validatorKey = crypto.sha256(new TextEncoder().encode('bench/validator'));
  // A valid scalar below the group order r: a small number, big-endian.
  const blsSecret = new Uint8Array(32);
  blsSecret[31] = 7;
  const blsPublicKey = crypto.bls.getPublicKey(blsSecret);
  const blsPop = crypto.bls.sign(blsPopMessage(crypto, blsPublicKey), blsSecret);
  const allocations: Allocation[] = [];
  const share = bucketAmount('privateSale');
  const each = share / BigInt(accounts);
  publicKeys.forEach((pk, i) => {
    const extra = i === 0 ? share - each * BigInt(accounts) : 0n;
    allocations.push({
      bucket: 'privateSale',
      address: addressOf(crypto, pk),
      liquid: each + extra,
      staked: 0n,
    });
  });
  const owner = (label: string) => crypto.sha256(new TextEncoder().encode(`bench/owner/${label}`));
  allocations.push({
    bucket: 'foundation',
    address: addressOf(crypto, validatorKey),
    liquid: 0n,
    staked: params.minValidatorStake,
  });
  allocations.push({
    bucket: 'foundation',
    address: owner('foundation'),
    liquid: bucketAmount('foundation') - params.minValidatorStake,
    staked: 0n,
  });
  for (const b of ['communityIncentives', 'team', 'earlyInvestorsAdvisors'] as const) {
    allocations.push({ bucket: b, address: owner(b), liquid: bucketAmount(b), staked: 0n });
  }
  allocations.sort((a, b) => compareBytes(a.address, b.address));
  const genesis: Genesis = {
    chainId: BENCH_CHAIN_ID,
    time: BENCH_TIME,
    shardCount: 1,
    params,
    allocations,
    validators: [{ nodePublicKey: validatorKey, blsPublicKey, blsPop, endpoint: '127.0.0.1:7400' }],
  };
  validateGenesis(crypto, genesis);
  return {
    genesis,
    publicKeys,
    nonces: publicKeys.map(() => 0),
    proposerOwner: addressOf(crypto, validatorKey),
  };
}

const SIGNATURE = new Uint8Array(64);
const EMPTY = new Uint8Array(0);

/** `count` transfers of 1 unit between random accounts, nonces in order; with their ids. */
export function transferBlock(
  crypto: Crypto,
  chain: BenchChain,
  count: number,
  random: () => number,
): { txs: Transaction[]; ids: Uint8Array[] } {
  const n = chain.publicKeys.length;
  const txs: Transaction[] = [];
  const ids: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const from = Math.floor(random() * n);
    const to = Math.floor(random() * n);
    const body = {
      chainId: BENCH_CHAIN_ID,
      sender: chain.publicKeys[from]!,
      nonce: chain.nonces[from]!++,
      expiry: BENCH_TIME + 10 * 86_400_000,
      fee: 100n,
      payload: {
        kind: 'transfer' as const,
        to: addressOf(crypto, chain.publicKeys[to]!),
        amount: 1n,
        memo: EMPTY,
      },
    };
    txs.push({ body, signatures: [SIGNATURE] });
    ids.push(txIdOfBody(crypto, encodeTxBody(body)));
  }
  return { txs, ids };
}

export function benchContext(chain: BenchChain, height: number): BlockContext {
  return {
    chainId: BENCH_CHAIN_ID,
    shard: 0,
    height,
    epoch: Math.floor(height / chain.genesis.params.epochLength),
    view: 0,
    time: BENCH_TIME + height * 500,
    proposerOwner: chain.proposerOwner,
    lastCommit: null,
    params: chain.genesis.params,
  };
}

/** A small deterministic PRNG (mulberry32), so runs are comparable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
