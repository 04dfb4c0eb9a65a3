/**
 * Evidence of misbehaviour and slashing (docs/consensus.md §6). Every check is objective: any node with the
 * committee of the offence's epoch (kept in the state) reaches the same verdict.
 *
 *   1 proposal equivocation  first, second = two BlockHeader objects signed by their proposer for the same
 *                            (shard, height, view) with different block ids
 *   2 vote equivocation      first, second = two Vote objects of one member for the same (shard, height,
 *                            view, phase) with different block ids
 *   3 invalid block          first = the signed BlockHeader; second = FraudProof [1, Transaction, MerkleProof]:
 *                            a transaction committed by header.txRoot whose signatures do not verify
 * Slashing moves the offender's whole stake (staked + unbonding) to the community-incentives account, so the
 * total supply is unchanged, and zeroes its servi, behaviour and review record; it is never eligible again.
 */

import { equalBytes } from '../../core/bytes.js';
import { CborReader, CborWriter } from '../../core/cbor.js';
import type { PreparedCommittee } from '../../core/committee.js';
import type { Crypto } from '../../core/crypto.js';
import { DecodeError, IosnetError, VerifyError } from '../../core/errors.js';
import type { ChainParams, Genesis } from '../../core/genesis.js';
import { type BlockHeader, blockIdOf, decodeBlockHeader, voteMessage } from '../../core/header.js';
import { type MerkleProof, readMerkleProof, verifyMerkleProof, writeMerkleProof } from '../../core/merkle.js';
import {
  type Evidence,
  EvidenceKind,
  readTx,
  type Transaction,
  txIdOf,
  verifyTxSignatures,
  writeTx,
} from '../../core/tx.js';
import { type BlockContext, type StateWriter, TxError } from '../state/interface.js';
import { epochOf } from './epochs.js';
import { validatorOwnerOf } from './hooks.js';
import { decodeVote } from './messages.js';

export interface FraudProof {
  readonly tx: Transaction;
  readonly proof: MerkleProof;
}

export function encodeFraudProof(f: FraudProof): Uint8Array {
  const w = new CborWriter(1024).array(3).uint(1);
  writeTx(w, f.tx);
  writeMerkleProof(w, f.proof);
  return w.finish();
}

export function decodeFraudProof(bytes: Uint8Array): FraudProof {
  const r = new CborReader(bytes);
  r.array('fraudProof', 3);
  if (r.uint('fraudProof.version') !== 1)
    throw new DecodeError('DECODE_UNKNOWN_VERSION', 'fraudProof: unknown version', {});
  const { tx } = readTx(r);
  const proof = readMerkleProof(r);
  r.end('fraudProof');
  return { tx, proof };
}

function refuse(message: string): never {
  throw new TxError('TX_INVALID', `evidence: ${message}`, {});
}

/** Verifies the evidence and returns the offender's committee index and the committee's epoch. */
export function checkEvidence(
  crypto: Crypto,
  params: ChainParams,
  p: Evidence,
  committeeOf: (epoch: number) => PreparedCommittee,
): { offender: number; epoch: number; height: number } {
  try {
    switch (p.evidenceKind) {
      case EvidenceKind.proposalEquivocation: {
        const a = decodeBlockHeader(p.first);
        const b = decodeBlockHeader(p.second);
        if (
          a.shard !== b.shard ||
          a.height !== b.height ||
          a.view !== b.view ||
          a.epoch !== b.epoch ||
          a.proposer !== b.proposer
        ) {
          refuse('the headers are not for one proposer turn');
        }
        const ida = blockIdOf(crypto, a);
        const idb = blockIdOf(crypto, b);
        if (equalBytes(ida, idb)) refuse('the headers are the same block');
        const c = committeeOf(a.epoch);
        checkHeaderSignature(crypto, c, a, ida);
        checkHeaderSignature(crypto, c, b, idb);
        return { offender: a.proposer, epoch: a.epoch, height: a.height };
      }
      case EvidenceKind.voteEquivocation: {
        const a = decodeVote(p.first);
        const b = decodeVote(p.second);
        if (
          a.shard !== b.shard ||
          a.height !== b.height ||
          a.view !== b.view ||
          a.phase !== b.phase ||
          a.voter !== b.voter
        ) {
          refuse('the votes are not for one slot of one member');
        }
        if (equalBytes(a.blockId, b.blockId)) refuse('the votes are for the same block');
        // A vote does not name its epoch; its height does.
        const epoch = epochOf(a.height, params);
        const c = committeeOf(epoch);
        const key = c.keys[a.voter];
        if (!key) refuse('voter is not a committee member');
        for (const v of [a, b]) {
          if (!crypto.bls.verify(v.signature, voteMessage(crypto, v.phase, v.view, v.blockId), key))
            refuse('a vote signature does not verify');
        }
        return { offender: a.voter, epoch, height: a.height };
      }
      case EvidenceKind.invalidBlock: {
        const header = decodeBlockHeader(p.first);
        const fraud = decodeFraudProof(p.second);
        const id = blockIdOf(crypto, header);
        const c = committeeOf(header.epoch);
        checkHeaderSignature(crypto, c, header, id);
        if (fraud.proof.count !== header.txCount) refuse('the proof is not for this block');
        verifyMerkleProof(crypto, header.txRoot, txIdOf(crypto, fraud.tx), fraud.proof);
        try {
          verifyTxSignatures(crypto, fraud.tx);
        } catch (e) {
          if (e instanceof VerifyError)
            return { offender: header.proposer, epoch: header.epoch, height: header.height };
          throw e;
        }
        return refuse('the transaction is valid');
      }
      default:
        return refuse(`unknown evidence kind ${p.evidenceKind}`);
    }
  } catch (e) {
    if (e instanceof TxError) throw e;
    if (e instanceof IosnetError) throw new TxError('TX_INVALID', `evidence: ${e.code}: ${e.message}`, {});
    throw e;
  }
}

function checkHeaderSignature(crypto: Crypto, c: PreparedCommittee, h: BlockHeader, id: Uint8Array): void {
  const key = c.keys[h.proposer];
  if (!key) refuse('proposer is not a committee member');
  if (!crypto.bls.verify(h.proposerSignature, id, key)) refuse('a header signature does not verify');
}

/** Verifies evidence and slashes its offender (see the header comment). */
export function applyEvidence(
  crypto: Crypto,
  genesis: Genesis,
  ctx: BlockContext,
  p: Evidence,
  txId: Uint8Array,
  state: StateWriter,
  committeeOf: (epoch: number) => PreparedCommittee,
): void {
  const { offender, epoch, height } = checkEvidence(crypto, ctx.params, p, committeeOf);
  if (epoch + ctx.params.unbondingEpochs < ctx.epoch)
    refuse('the offence is older than the unbonding period');
  const member = committeeOf(epoch).committee.members[offender]!;
  const owner = validatorOwnerOf(state, member.blsPublicKey);
  if (!owner) refuse('the offender is not a registered validator');
  const v = state.getValidator(owner)!;
  if (v.slashed) throw new TxError('TX_DUPLICATE', 'evidence: the offender is already slashed', {});
  const account = state.getAccount(owner);
  const seized = account.staked + account.unbonding;
  state.putAccount(owner, { ...account, staked: 0n, unbonding: 0n });
  const community = genesis.allocations.find((a) => a.bucket === 'communityIncentives')!.address;
  const pool = state.getAccount(community);
  state.putAccount(community, { ...pool, balance: pool.balance + seized });
  state.putValidator({
    ...v,
    slashed: true,
    servi: 0,
    done: 0,
    missed: 0,
    reviewScoreSum: 0n,
    reviewStakeSum: 0n,
  });
  const record = new CborWriter(96)
    .array(5)
    .uint(1)
    .uint(ctx.height)
    .uint(p.evidenceKind)
    .uint(height)
    .bytes(txId)
    .finish();
  state.putRecord('slashing', owner, record);
}
