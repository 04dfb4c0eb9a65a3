/**
 * Atomix fixtures: a cross-shard transfer and the LockProofs (header + finality certificate + lock record +
 * SMT proof of the record under the header's stateRoot) that commit and abort transactions carry.
 */
import { type CrossShardTx, crossTxIdOf, type LockProof } from '../../core/atomix.js';
import { shardOf } from '../../core/identity.js';
import {
  packSmtProof,
  type SmtLeaf,
  type SmtProof,
  smtLeafHash,
  smtNodeHash,
  smtPathBit,
  ZERO_HASH,
} from '../../core/smt.js';
import {
  type AtomixLockRecord,
  atomixLockKey,
  encodeAccount,
  encodeAtomixLockRecord,
  type LockStatusName,
  stateKey,
  stateValueHash,
} from '../../core/state.js';
import { makeCommittee, makeFinalityCertificate, makeHeader } from './chain.js';
import { testCrypto } from './crypto.js';
import { ed25519Key, labelHash } from './keys.js';

export const TEST_SHARD_COUNT = 4;

/** Two inputs (alice, carol) paying one output (bob); the totals match. */
export function makeCrossShardTx(overrides: Partial<CrossShardTx> = {}): CrossShardTx {
  return {
    salt: labelHash('salt', 'atomix').subarray(0, 16),
    inputs: [
      { address: ed25519Key('alice').address, amount: 300_000_000n },
      { address: ed25519Key('carol').address, amount: 200_000_000n },
    ],
    outputs: [{ address: ed25519Key('bob').address, amount: 500_000_000n }],
    ...overrides,
  };
}

/**
 * Root of a two-leaf compact SMT and the inclusion proof of `target`: the leaves split at the first bit
 * where their keys differ; every sibling above the split is empty.
 */
export function smtTwoLeafProof(target: SmtLeaf, other: SmtLeaf): { root: Uint8Array; proof: SmtProof } {
  let split = 0;
  while (split < 256 && smtPathBit(target.key, split) === smtPathBit(other.key, split)) split++;
  if (split === 256) throw new RangeError('keys are equal');
  const siblings: Uint8Array[] = Array.from({ length: split }, () => ZERO_HASH);
  siblings.push(smtLeafHash(testCrypto, other.key, other.valueHash));
  let h = smtLeafHash(testCrypto, target.key, target.valueHash);
  for (let i = split; i >= 0; i--) {
    const s = siblings[i]!;
    h = smtPathBit(target.key, i) ? smtNodeHash(testCrypto, s, h) : smtNodeHash(testCrypto, h, s);
  }
  return { root: h, proof: packSmtProof(siblings, target) };
}

/**
 * The input shard's proof that input `inputIndex` of crossTx was locked (accepted) or rejected: a header of
 * the input's shard whose stateRoot holds the lock record (next to one account), final by a certificate.
 */
export function makeLockProof(crossTx: CrossShardTx, inputIndex: number, status: LockStatusName): LockProof {
  const input = crossTx.inputs[inputIndex];
  if (!input) throw new RangeError(`no input ${inputIndex}`);
  const crossTxId = crossTxIdOf(testCrypto, crossTx);
  const record: AtomixLockRecord = { crossTxId, inputIndex, status, amount: input.amount };
  const target = {
    key: atomixLockKey(testCrypto, crossTxId, inputIndex),
    valueHash: stateValueHash(testCrypto, encodeAtomixLockRecord(record)),
  };
  const neighbour = {
    key: stateKey(testCrypto, 'account', input.address),
    valueHash: stateValueHash(
      testCrypto,
      encodeAccount({
        balance: 1n,
        nonce: 1,
        staked: 0n,
        unbonding: 0n,
        unbondingEpoch: 0,
        locked: input.amount,
      }),
    ),
  };
  const { root, proof } = smtTwoLeafProof(target, neighbour);
  const tc = makeCommittee({ shard: shardOf(input.address, TEST_SHARD_COUNT) });
  const { header } = makeHeader(tc, { height: 200 + inputIndex, stateRoot: root });
  const certificate = makeFinalityCertificate(tc, header);
  return { header, certificate, record, proof };
}
