/**
 * Genesis (docs/protocol.md §Genesis): the chain's parameters, the IOST allocation and the first
 * validators. genesisHash = H("iosnet/genesis/v1", Genesis bytes) is the root of trust of every node and
 * device image.
 *
 * Genesis = [1, 7, chainId, time, shardCount, params, allocations, validators]
 *   params      = [blockIntervalMs, stateBlockInterval, epochLength, committeeSize, leagueSize,
 *                  minValidatorStake, unbondingEpochs, maxBlockTxs]
 *   allocations = [[bucket, address, liquid, staked], ...] strictly increasing by address
 *   validators  = [[nodePublicKey, blsPublicKey, blsPop, endpoint], ...] strictly increasing by nodePublicKey
 * Rules (validateGenesis): every bucket holds exactly its share of the 21e9 IOST supply; each validator's
 * account (address of its node key) holds at least minValidatorStake staked; every BLS key proves
 * possession; keys are unique.
 */
import { compareBytes, equalBytes } from './bytes.js';
import { CborReader, CborWriter } from './cbor.js';
import type { Crypto } from './crypto.js';
import { IosnetError, invalidValue } from './errors.js';
import { DomainTag, taggedHash } from './hash.js';
import {
  addressOf,
  BLS_PUBLIC_KEY_BYTES,
  BLS_SIGNATURE_BYTES,
  blsPopMessage,
  ED25519_PUBLIC_KEY_BYTES,
  HASH_BYTES,
  MAX_CHAIN_ID_BYTES,
} from './identity.js';
import { assertMaxSize, ObjectType, readEnvelope, writeEnvelope } from './object.js';
import { AllocationBucket, type AllocationBucketName, bucketAmount, TOTAL_SUPPLY } from './token.js';
import { MAX_ENDPOINT_BYTES } from './tx.js';

export const MAX_GENESIS_BYTES = 4 * 1024 * 1024;
const BUCKET_NAMES = Object.keys(AllocationBucket) as AllocationBucketName[];

export interface ChainParams {
  readonly blockIntervalMs: number;
  /** K: a micro state block every K blocks. */
  readonly stateBlockInterval: number;
  /** Blocks per epoch; a multiple of stateBlockInterval so every epoch ends on a state block. */
  readonly epochLength: number;
  readonly committeeSize: number;
  readonly leagueSize: number;
  readonly minValidatorStake: bigint;
  readonly unbondingEpochs: number;
  readonly maxBlockTxs: number;
}

export interface Allocation {
  readonly bucket: AllocationBucketName;
  readonly address: Uint8Array;
  readonly liquid: bigint;
  readonly staked: bigint;
}

export interface GenesisValidator {
  readonly nodePublicKey: Uint8Array;
  readonly blsPublicKey: Uint8Array;
  readonly blsPop: Uint8Array;
  readonly endpoint: string;
}

export interface Genesis {
  readonly chainId: string;
  readonly time: number;
  readonly shardCount: number;
  readonly params: ChainParams;
  readonly allocations: readonly Allocation[];
  readonly validators: readonly GenesisValidator[];
}

export function encodeGenesis(g: Genesis): Uint8Array {
  const w = new CborWriter(1024 + g.allocations.length * 64 + g.validators.length * 200);
  writeEnvelope(w, ObjectType.genesis, 6);
  w.text(g.chainId).uint(g.time).uint(g.shardCount);
  const p = g.params;
  w.array(8).uint(p.blockIntervalMs).uint(p.stateBlockInterval).uint(p.epochLength).uint(p.committeeSize);
  w.uint(p.leagueSize).uint(p.minValidatorStake).uint(p.unbondingEpochs).uint(p.maxBlockTxs);
  w.array(g.allocations.length);
  for (const a of g.allocations)
    w.array(4).uint(AllocationBucket[a.bucket]).bytes(a.address).uint(a.liquid).uint(a.staked);
  w.array(g.validators.length);
  for (const v of g.validators)
    w.array(4).bytes(v.nodePublicKey).bytes(v.blsPublicKey).bytes(v.blsPop).text(v.endpoint);
  return w.finish();
}

export function decodeGenesis(bytes: Uint8Array): Genesis {
  assertMaxSize(bytes, MAX_GENESIS_BYTES, 'genesis');
  const r = new CborReader(bytes);
  readEnvelope(r, ObjectType.genesis, 6);
  const chainId = r.text('genesis.chainId', MAX_CHAIN_ID_BYTES);
  const time = r.uint('genesis.time');
  const shardCount = r.uint('genesis.shardCount', 1024);
  r.array('genesis.params', 8);
  const params: ChainParams = {
    blockIntervalMs: r.uint('genesis.params.blockIntervalMs'),
    stateBlockInterval: r.uint('genesis.params.stateBlockInterval'),
    epochLength: r.uint('genesis.params.epochLength'),
    committeeSize: r.uint('genesis.params.committeeSize', 1024),
    leagueSize: r.uint('genesis.params.leagueSize', 1024),
    minValidatorStake: r.u64('genesis.params.minValidatorStake'),
    unbondingEpochs: r.uint('genesis.params.unbondingEpochs'),
    maxBlockTxs: r.uint('genesis.params.maxBlockTxs'),
  };
  const na = r.array('genesis.allocations', { min: 1, max: 100_000 });
  const allocations: Allocation[] = [];
  for (let i = 0; i < na; i++) {
    const f = `genesis.allocations[${i}]`;
    r.array(f, 4);
    const code = r.uint(`${f}.bucket`, BUCKET_NAMES.length - 1);
    const address = r.bytesField(`${f}.address`, HASH_BYTES);
    const liquid = r.u64(`${f}.liquid`);
    const staked = r.u64(`${f}.staked`);
    const prev = allocations[i - 1];
    if (prev && compareBytes(prev.address, address) >= 0)
      invalidValue(f, 'allocations must be in strictly increasing address order');
    allocations.push({ bucket: BUCKET_NAMES[code]!, address, liquid, staked });
  }
  const nv = r.array('genesis.validators', { min: 1, max: 1024 });
  const validators: GenesisValidator[] = [];
  for (let i = 0; i < nv; i++) {
    const f = `genesis.validators[${i}]`;
    r.array(f, 4);
    const nodePublicKey = r.bytesField(`${f}.nodePublicKey`, ED25519_PUBLIC_KEY_BYTES);
    const blsPublicKey = r.bytesField(`${f}.blsPublicKey`, BLS_PUBLIC_KEY_BYTES);
    const blsPop = r.bytesField(`${f}.blsPop`, BLS_SIGNATURE_BYTES);
    const endpoint = r.text(`${f}.endpoint`, MAX_ENDPOINT_BYTES);
    const prev = validators[i - 1];
    if (prev && compareBytes(prev.nodePublicKey, nodePublicKey) >= 0)
      invalidValue(f, 'validators must be in strictly increasing key order');
    validators.push({ nodePublicKey, blsPublicKey, blsPop, endpoint });
  }
  r.end('genesis');
  return { chainId, time, shardCount, params, allocations, validators };
}

export function genesisHash(crypto: Crypto, g: Genesis): Uint8Array {
  return taggedHash(crypto, DomainTag.genesis, encodeGenesis(g));
}

function genesisError(reason: string, data: Record<string, unknown> = {}): never {
  throw new IosnetError('GENESIS_INVALID', `genesis: ${reason}`, data);
}

/** Checks the rules above; throws IosnetError GENESIS_INVALID with the reason. */
export function validateGenesis(crypto: Crypto, g: Genesis): void {
  const p = g.params;
  // The bounds decodeGenesis enforces, so that every genesis that validates also decodes.
  const chainIdBytes = new TextEncoder().encode(g.chainId).length;
  if (chainIdBytes < 1 || chainIdBytes > MAX_CHAIN_ID_BYTES)
    genesisError(`chainId must be 1..${MAX_CHAIN_ID_BYTES} bytes`);
  if (g.shardCount < 1 || g.shardCount > 1024) genesisError('shardCount must be within 1..1024');
  if (p.committeeSize > 1024) genesisError('committeeSize must be at most 1024');
  if (g.validators.length < 1 || g.validators.length > 1024) genesisError('there must be 1..1024 validators');
  for (const [i, v] of g.validators.entries()) {
    if (new TextEncoder().encode(v.endpoint).length > MAX_ENDPOINT_BYTES) {
      genesisError(`validator ${i}: endpoint longer than ${MAX_ENDPOINT_BYTES} bytes`, { index: i });
    }
  }
  if (p.blockIntervalMs < 1 || p.stateBlockInterval < 1) genesisError('intervals must be positive');
  if (p.epochLength < p.stateBlockInterval || p.epochLength % p.stateBlockInterval !== 0) {
    genesisError('epochLength must be a positive multiple of stateBlockInterval');
  }
  if (p.leagueSize < 1 || p.leagueSize > p.committeeSize)
    genesisError('leagueSize must be within 1..committeeSize');
  if (p.maxBlockTxs < 1) genesisError('maxBlockTxs must be positive');
  // The orders decodeGenesis enforces; they also make addresses and node keys unique.
  for (let i = 1; i < g.allocations.length; i++) {
    if (compareBytes(g.allocations[i - 1]!.address, g.allocations[i]!.address) >= 0) {
      genesisError('allocations must be in strictly increasing address order', { index: i });
    }
  }
  for (let i = 1; i < g.validators.length; i++) {
    if (compareBytes(g.validators[i - 1]!.nodePublicKey, g.validators[i]!.nodePublicKey) >= 0) {
      genesisError('validators must be in strictly increasing node key order', { index: i });
    }
  }
  const perBucket = new Map<AllocationBucketName, bigint>();
  let total = 0n;
  for (const a of g.allocations) {
    const amount = a.liquid + a.staked;
    perBucket.set(a.bucket, (perBucket.get(a.bucket) ?? 0n) + amount);
    total += amount;
  }
  for (const b of BUCKET_NAMES) {
    const got = perBucket.get(b) ?? 0n;
    if (got !== bucketAmount(b)) {
      genesisError(`bucket ${b} holds ${got}, must hold ${bucketAmount(b)}`, { bucket: b });
    }
  }
  if (total !== TOTAL_SUPPLY) genesisError(`total ${total} differs from the supply ${TOTAL_SUPPLY}`);
  const blsKeys = new Set<string>();
  for (const [i, v] of g.validators.entries()) {
    const key = crypto.bls.parsePublicKey(v.blsPublicKey);
    if (!key || !crypto.bls.verify(v.blsPop, blsPopMessage(crypto, v.blsPublicKey), key)) {
      genesisError(`validator ${i}: BLS proof of possession does not verify`, { index: i });
    }
    const hex = v.blsPublicKey.join(',');
    if (blsKeys.has(hex)) genesisError(`validator ${i}: duplicate BLS key`, { index: i });
    blsKeys.add(hex);
    const address = addressOf(crypto, v.nodePublicKey);
    const stake = g.allocations.find((a) => equalBytes(a.address, address))?.staked ?? 0n;
    if (stake < p.minValidatorStake) {
      genesisError(`validator ${i}: stake ${stake} below minValidatorStake ${p.minValidatorStake}`, {
        index: i,
      });
    }
  }
}

export const DEFAULT_CHAIN_PARAMS: ChainParams = {
  blockIntervalMs: 500,
  stateBlockInterval: 16,
  epochLength: 256,
  committeeSize: 64,
  leagueSize: 8,
  minValidatorStake: 1_000_000n * 100_000_000n,
  unbondingEpochs: 2,
  maxBlockTxs: 10_000,
};

export interface GenesisValidatorInput extends GenesisValidator {
  /** Staked at genesis, drawn from the foundation's share. */
  readonly stake: bigint;
}

/**
 * Builds a valid genesis: each bucket goes to its owner's address, and each validator's stake is carved
 * out of the foundation's share into the validator's own account (address of its node key).
 */
export function buildGenesis(opts: {
  chainId: string;
  time: number;
  shardCount?: number;
  params?: ChainParams;
  bucketOwners: Readonly<Record<AllocationBucketName, Uint8Array>>;
  validators: readonly GenesisValidatorInput[];
  crypto: Crypto;
}): Genesis {
  const byAddress = new Map<string, Allocation>();
  const add = (a: Allocation) => {
    const k = a.address.join(',');
    if (byAddress.has(k)) genesisError('an address appears twice among bucket owners and validators');
    byAddress.set(k, a);
  };
  let stakeTotal = 0n;
  const validatorAllocations: Allocation[] = opts.validators.map((v) => {
    stakeTotal += v.stake;
    return {
      bucket: 'foundation',
      address: addressOf(opts.crypto, v.nodePublicKey),
      liquid: 0n,
      staked: v.stake,
    };
  });
  for (const b of BUCKET_NAMES) {
    let liquid = bucketAmount(b);
    if (b === 'foundation') {
      if (stakeTotal > liquid) genesisError('validator stakes exceed the foundation share');
      liquid -= stakeTotal;
    }
    add({ bucket: b, address: opts.bucketOwners[b], liquid, staked: 0n });
  }
  for (const a of validatorAllocations) add(a);
  const allocations = [...byAddress.values()].sort((x, y) => compareBytes(x.address, y.address));
  const validators = opts.validators
    .map(({ nodePublicKey, blsPublicKey, blsPop, endpoint }) => ({
      nodePublicKey,
      blsPublicKey,
      blsPop,
      endpoint,
    }))
    .sort((x, y) => compareBytes(x.nodePublicKey, y.nodePublicKey));
  const g: Genesis = {
    chainId: opts.chainId,
    time: opts.time,
    shardCount: opts.shardCount ?? 1,
    params: opts.params ?? DEFAULT_CHAIN_PARAMS,
    allocations,
    validators,
  };
  validateGenesis(opts.crypto, g);
  return g;
}
