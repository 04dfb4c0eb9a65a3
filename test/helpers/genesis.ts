/** A valid genesis from deterministic keys, built with core's buildGenesis (which also validates it). */
import {
  buildGenesis,
  type ChainParams,
  type Genesis,
  type GenesisValidatorInput,
} from '../../core/genesis.js';
import { AllocationBucket, type AllocationBucketName, IOST_UNIT } from '../../core/token.js';
import { TEST_SHARD_COUNT } from './atomix.js';
import { TEST_CHAIN_ID, TEST_TIME } from './chain.js';
import { testCrypto } from './crypto.js';
import { blsKey, blsPop, ed25519Key } from './keys.js';

export const TEST_CHAIN_PARAMS: ChainParams = {
  blockIntervalMs: 500,
  stateBlockInterval: 16,
  epochLength: 256,
  committeeSize: 4,
  leagueSize: 2,
  minValidatorStake: 1_000_000n * IOST_UNIT,
  unbondingEpochs: 2,
  maxBlockTxs: 10_000,
};

export const BUCKETS = Object.keys(AllocationBucket) as AllocationBucketName[];

export function bucketOwners(): Record<AllocationBucketName, Uint8Array> {
  return Object.fromEntries(BUCKETS.map((b) => [b, ed25519Key(`owner/${b}`).address])) as Record<
    AllocationBucketName,
    Uint8Array
  >;
}

/** Validator i: node key ed25519Key(`validator/${i}`), BLS key blsKey(`validator/${i}`), stake = minimum. */
export function genesisValidators(
  count = 4,
  params: ChainParams = TEST_CHAIN_PARAMS,
): GenesisValidatorInput[] {
  return Array.from({ length: count }, (_, i) => {
    const bls = blsKey(`validator/${i}`);
    return {
      nodePublicKey: ed25519Key(`validator/${i}`).publicKey,
      blsPublicKey: bls.publicKey,
      blsPop: blsPop(bls),
      endpoint: `10.0.0.${i + 1}:7400`,
      stake: params.minValidatorStake,
    };
  });
}

let cached: Genesis | undefined;

/** The standard test genesis: 4 shards, 4 validators; memoized (4 BLS proofs of possession to verify). */
export function makeGenesis(): Genesis {
  cached ??= buildGenesis({
    chainId: TEST_CHAIN_ID,
    time: TEST_TIME,
    shardCount: TEST_SHARD_COUNT,
    params: TEST_CHAIN_PARAMS,
    bucketOwners: bucketOwners(),
    validators: genesisValidators(),
    crypto: testCrypto,
  });
  return cached;
}
