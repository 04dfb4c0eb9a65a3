/**
 * Builders for consensus objects signed by deterministic committees: committees, headers (proposer
 * signature), finality certificates and state blocks (collective signatures by more than 2/3 of the weight).
 */
import { type Block, lastCommitHash } from '../../core/block.js';
import { equalBytes } from '../../core/bytes.js';
import {
  type CollectiveSignature,
  type Committee,
  committeeHash,
  hasSupermajority,
  makeBitmap,
  type PreparedCommittee,
  prepareCommittee,
  sortMembers,
  verifyCollectiveSignature,
} from '../../core/committee.js';
import {
  type BlockHeader,
  type BlockHeaderFields,
  blockIdOf,
  type FinalityCertificate,
  VotePhase,
  voteMessage,
} from '../../core/header.js';
import { merkleRoot } from '../../core/merkle.js';
import { type StateBlock, type StateBlockFields, stateBlockIdOf, ZERO_HASH } from '../../core/state-block.js';
import { type Transaction, txIdOf } from '../../core/tx.js';
import { verifyFinalityCertificate, verifyHeader, verifyStateBlock } from '../../core/verify.js';
import { testCrypto } from './crypto.js';
import { type BlsTestKey, blsKey, blsSign, labelHash } from './keys.js';

export const TEST_CHAIN_ID = 'iosnet-test';
/** 2026-01-01T00:00:00Z in ms: above 2^32, so every fixture exercises 8-byte CBOR integers. */
export const TEST_TIME = 1_767_225_600_000;

export interface TestCommittee {
  readonly committee: Committee;
  /** BLS keys in member order (members are sorted by public key). */
  readonly keys: readonly BlsTestKey[];
  readonly prepared: PreparedCommittee;
  readonly hash: Uint8Array;
}

export interface CommitteeOptions {
  readonly chainId?: string;
  readonly shard?: number;
  readonly epoch?: number;
  /** Member weights before sorting; their count is the committee size. Default [40, 30, 20, 10]. */
  readonly weights?: readonly number[];
  readonly leagueSize?: number;
  /** Prefix of the members' key labels; default derived from shard and epoch. */
  readonly label?: string;
}

const committees = new Map<string, TestCommittee>();

/** A committee whose member i (before sorting) has BLS key blsKey(`${label}/${i}`) and weight weights[i]. */
export function makeCommittee(opts: CommitteeOptions = {}): TestCommittee {
  const chainId = opts.chainId ?? TEST_CHAIN_ID;
  const shard = opts.shard ?? 0;
  const epoch = opts.epoch ?? 1;
  const weights = opts.weights ?? [40, 30, 20, 10];
  const label = opts.label ?? `committee/${shard}`;
  const leagueSize = opts.leagueSize ?? Math.min(2, weights.length);
  const cacheKey = JSON.stringify([chainId, shard, epoch, weights, label, leagueSize]);
  const cached = committees.get(cacheKey);
  if (cached) return cached;
  const unsorted = weights.map((weight, i) => ({ key: blsKey(`${label}/${i}`), weight }));
  const members = sortMembers(unsorted.map((m) => ({ blsPublicKey: m.key.publicKey, weight: m.weight })));
  const keys = members.map((m) => unsorted.find((u) => equalBytes(u.key.publicKey, m.blsPublicKey))!.key);
  const committee: Committee = { chainId, shard, epoch, leagueSize, members };
  const prepared = prepareCommittee(testCrypto, committee);
  const tc: TestCommittee = { committee, keys, prepared, hash: committeeHash(testCrypto, committee) };
  committees.set(cacheKey, tc);
  return tc;
}

/** Heaviest members first until their weight is more than 2/3 of the total; indexes ascending. */
export function supermajoritySigners(tc: TestCommittee): number[] {
  const order = tc.committee.members
    .map((m, i) => ({ w: m.weight, i }))
    .sort((a, b) => b.w - a.w || a.i - b.i);
  const total = tc.prepared.totalWeight;
  const chosen: number[] = [];
  let weight = 0;
  for (const { w, i } of order) {
    if (hasSupermajority(weight, total)) break;
    chosen.push(i);
    weight += w;
  }
  return chosen.sort((a, b) => a - b);
}

/** Aggregate signature of `message` by the given member indexes (no weight check: tests build bad ones too). */
export function signCollective(
  tc: TestCommittee,
  message: Uint8Array,
  signers: readonly number[],
): CollectiveSignature {
  const sigs = signers.map((i) => blsSign(tc.keys[i]!, message));
  const signature = testCrypto.bls.aggregateSignatures(sigs);
  if (!signature) throw new Error('aggregate of test signatures failed');
  return { signers: makeBitmap(tc.committee.members.length, signers), signature };
}

/** A 32-byte placeholder hash derived from a label (parents, roots). */
export function fakeHash(label: string): Uint8Array {
  return labelHash('hash', label);
}

export function headerFields(
  tc: TestCommittee,
  overrides: Partial<BlockHeaderFields> = {},
): BlockHeaderFields {
  return {
    chainId: tc.committee.chainId,
    shard: tc.committee.shard,
    height: 100,
    epoch: tc.committee.epoch,
    view: 0,
    parent: fakeHash('parent'),
    txRoot: new Uint8Array(32),
    stateRoot: fakeHash('stateRoot'),
    proposer: tc.prepared.league.values().next().value ?? 0,
    time: TEST_TIME,
    txCount: 0,
    lastCommit: new Uint8Array(32),
    ...overrides,
  };
}

/** A header signed by its proposer (fields.proposer indexes tc's members). */
export function makeHeader(
  tc: TestCommittee,
  overrides: Partial<BlockHeaderFields> = {},
): { header: BlockHeader; blockId: Uint8Array } {
  const fields = headerFields(tc, overrides);
  const blockId = blockIdOf(testCrypto, fields);
  const key = tc.keys[fields.proposer];
  if (!key) throw new RangeError(`proposer ${fields.proposer} is not a member`);
  return { header: { ...fields, proposerSignature: blsSign(key, blockId) }, blockId };
}

/** Commit-phase certificate for a header, signed by `signers` (default: a supermajority). */
export function makeFinalityCertificate(
  tc: TestCommittee,
  header: BlockHeaderFields,
  signers: readonly number[] = supermajoritySigners(tc),
): FinalityCertificate {
  const blockId = blockIdOf(testCrypto, header);
  return {
    blockId,
    shard: header.shard,
    height: header.height,
    epoch: header.epoch,
    view: header.view,
    signature: signCollective(tc, voteMessage(testCrypto, VotePhase.commit, header.view, blockId), signers),
  };
}

export function stateBlockFields(
  tc: TestCommittee,
  overrides: Partial<StateBlockFields> = {},
): StateBlockFields {
  return {
    chainId: tc.committee.chainId,
    shard: tc.committee.shard,
    epoch: tc.committee.epoch,
    index: 0,
    fromHeight: 0,
    toHeight: 15,
    stateRoot: fakeHash('stateRoot'),
    previous: ZERO_HASH,
    committee: tc.hash,
    nextCommittee: tc.hash,
    ...overrides,
  };
}

/** A state block signed by `signers` (default: a supermajority) of tc. */
export function makeStateBlock(
  tc: TestCommittee,
  overrides: Partial<StateBlockFields> = {},
  signers: readonly number[] = supermajoritySigners(tc),
): { stateBlock: StateBlock; id: Uint8Array } {
  const fields = stateBlockFields(tc, overrides);
  const id = stateBlockIdOf(testCrypto, fields);
  return { stateBlock: { ...fields, signature: signCollective(tc, id, signers) }, id };
}

// ---- core's checks (core/verify.ts) bound to testCrypto, as the tests and vectors use them ----

/** Grade 1: verifyHeader (chain/shard/epoch of the committee, proposer in the league, its signature). */
export function verifyHeaderSignature(committee: PreparedCommittee, header: BlockHeader): void {
  verifyHeader(testCrypto, committee, header);
}

/** Grade 2: verifyFinalityCertificate for exactly this header (id, shard, height, epoch) and its signature. */
export function verifyCertificateFor(
  committee: PreparedCommittee,
  header: BlockHeader,
  cert: FinalityCertificate,
): void {
  verifyFinalityCertificate(testCrypto, committee, cert, blockIdOf(testCrypto, header), header);
}

/** Only the collective signature over the commit vote for cert.blockId, without binding a header. */
export function verifyCertificateSignature(committee: PreparedCommittee, cert: FinalityCertificate): void {
  verifyCollectiveSignature(
    testCrypto,
    committee,
    voteMessage(testCrypto, VotePhase.commit, cert.view, cert.blockId),
    cert.signature,
  );
}

export function verifyStateBlockSignature(committee: PreparedCommittee, sb: StateBlock): void {
  verifyStateBlock(testCrypto, sb, committee);
}

/**
 * A block of `txs` whose header commits to them (txRoot over their ids, txCount) and to `lastCommit`
 * (the parent's certificate, default none), signed by its proposer.
 */
export function makeBlock(
  tc: TestCommittee,
  txs: readonly Transaction[],
  overrides: Partial<BlockHeaderFields> = {},
  lastCommit: FinalityCertificate | null = null,
): { block: Block; blockId: Uint8Array; txIds: Uint8Array[] } {
  const txIds = txs.map((tx) => txIdOf(testCrypto, tx));
  const { header, blockId } = makeHeader(tc, {
    txRoot: merkleRoot(testCrypto, txIds),
    txCount: txs.length,
    lastCommit: lastCommitHash(testCrypto, lastCommit),
    ...overrides,
  });
  return { block: { header, txs, lastCommit }, blockId, txIds };
}
