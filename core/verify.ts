/**
 * What a light client checks before it believes a gateway (docs/protocol.md §10-12). Each function throws
 * a VerifyError with a code and leaves nothing changed; none trusts a field it has not checked.
 *
 *   verifyStateBlock            a state block is signed by > 2/3 of the committee we hold for its epoch
 *   verifyStateBlockLink        a state block is the successor of one we already verified
 *   verifyCommitteeTransition   a new committee is the one the current committee signed for
 *   verifyStateProof /          a record (or its absence) is in the state under a verified root
 *     verifyAccountProof
 *   verifyHeader                a header is signed by a league member of its committee (grade 1)
 *   verifyTxInclusion           a transaction is in a block, with its confirmation grade (1 or 2)
 */
import { equalBytes } from './bytes.js';
import {
  type Committee,
  committeeHash,
  type PreparedCommittee,
  prepareCommittee,
  verifyCollectiveSignature,
} from './committee.js';
import type { Crypto } from './crypto.js';
import { VerifyError } from './errors.js';
import { type BlockHeader, blockIdOf, type FinalityCertificate, VotePhase, voteMessage } from './header.js';
import { verifyMerkleProof } from './merkle.js';
import type { StateProof, TxInclusionProof } from './proofs.js';
import { verifySmtProof } from './smt.js';
import {
  type AccountState,
  decodeAccount,
  type StateNamespaceName,
  stateKey,
  stateValueHash,
} from './state.js';
import { type StateBlock, stateBlockIdOf } from './state-block.js';

function fail(
  code: ConstructorParameters<typeof VerifyError>[0],
  message: string,
  data: Record<string, unknown> = {},
): never {
  throw new VerifyError(code, message, data);
}

/** The block's chain, shard and epoch are the committee's. */
function checkScope(
  committee: PreparedCommittee,
  what: string,
  chainId: string,
  shard: number,
  epoch: number,
): void {
  const c = committee.committee;
  if (chainId !== c.chainId)
    fail('VERIFY_WRONG_CHAIN', `${what} is for chain ${chainId}, expected ${c.chainId}`);
  if (shard !== c.shard) fail('VERIFY_WRONG_SHARD', `${what} is for shard ${shard}, expected ${c.shard}`);
  if (epoch !== c.epoch) {
    fail('VERIFY_COMMITTEE_MISMATCH', `${what} is for epoch ${epoch}, committee is for ${c.epoch}`, {
      epoch,
      committeeEpoch: c.epoch,
    });
  }
}

/** Returns the state block's id. */
export function verifyStateBlock(crypto: Crypto, sb: StateBlock, committee: PreparedCommittee): Uint8Array {
  checkScope(committee, 'state block', sb.chainId, sb.shard, sb.epoch);
  if (!equalBytes(sb.committee, committee.hash)) {
    fail('VERIFY_COMMITTEE_MISMATCH', 'state block names another signing committee');
  }
  const id = stateBlockIdOf(crypto, sb);
  verifyCollectiveSignature(crypto, committee, id, sb.signature);
  return id;
}

/** `next` directly follows `prev` (whose id the caller computed when verifying it). */
export function verifyStateBlockLink(prev: StateBlock, prevId: Uint8Array, next: StateBlock): void {
  const problems: string[] = [];
  if (next.chainId !== prev.chainId || next.shard !== prev.shard) problems.push('chain or shard differs');
  if (next.index !== prev.index + 1) problems.push(`index ${next.index} does not follow ${prev.index}`);
  if (!equalBytes(next.previous, prevId)) problems.push('previous is not the id of the prior state block');
  if (next.fromHeight !== prev.toHeight + 1)
    problems.push(`fromHeight ${next.fromHeight} does not follow ${prev.toHeight}`);
  if (!equalBytes(next.committee, prev.nextCommittee))
    problems.push('committee is not the one the prior block named');
  if (next.epoch < prev.epoch) problems.push('epoch goes backwards');
  if (problems.length > 0) {
    fail('VERIFY_NOT_SUCCESSOR', `state block ${next.index} is not a successor: ${problems.join('; ')}`, {
      problems,
    });
  }
}

/**
 * Accepts `next` as the committee after `current` iff `sb` is signed by `current` and names `next`'s hash as
 * nextCommittee, for the following epoch of the same chain and shard. Returns `next` prepared for use.
 */
export function verifyCommitteeTransition(
  crypto: Crypto,
  current: PreparedCommittee,
  sb: StateBlock,
  next: Committee,
): PreparedCommittee {
  verifyStateBlock(crypto, sb, current);
  const c = current.committee;
  if (next.chainId !== c.chainId || next.shard !== c.shard) {
    fail('VERIFY_COMMITTEE_MISMATCH', 'next committee is for another chain or shard');
  }
  if (next.epoch !== c.epoch + 1) {
    fail('VERIFY_COMMITTEE_MISMATCH', `next committee is for epoch ${next.epoch}, expected ${c.epoch + 1}`);
  }
  if (!equalBytes(committeeHash(crypto, next), sb.nextCommittee)) {
    fail('VERIFY_COMMITTEE_MISMATCH', 'next committee does not match the hash the state block signed');
  }
  return prepareCommittee(crypto, next);
}

/**
 * Checks a record proof against a verified state root. Returns the record's bytes, or null when the proof
 * shows the key absent. `expect` pins what the caller asked for, so a proof of another record is refused.
 */
export function verifyStateProof(
  crypto: Crypto,
  stateRoot: Uint8Array,
  proof: StateProof,
  expect: { namespace: StateNamespaceName; id: Uint8Array },
): Uint8Array | null {
  if (proof.namespace !== expect.namespace || !equalBytes(proof.id, expect.id)) {
    fail('VERIFY_INVALID_FIELD', 'proof is for another record than the one asked for');
  }
  const key = stateKey(crypto, proof.namespace, proof.id);
  const valueHash = proof.record ? stateValueHash(crypto, proof.record) : null;
  verifySmtProof(crypto, stateRoot, key, valueHash, proof.proof);
  return proof.record;
}

/** An account's state under a verified root; an absent account is all zeros (nonce 0, balance 0). */
export function verifyAccountProof(
  crypto: Crypto,
  stateRoot: Uint8Array,
  address: Uint8Array,
  proof: StateProof,
): AccountState | null {
  const record = verifyStateProof(crypto, stateRoot, proof, { namespace: 'account', id: address });
  return record ? decodeAccount(record) : null;
}

/** Grade 1: the header is signed by its proposer, who is in the league. Returns the block id. */
export function verifyHeader(crypto: Crypto, committee: PreparedCommittee, header: BlockHeader): Uint8Array {
  checkScope(committee, 'header', header.chainId, header.shard, header.epoch);
  if (!committee.league.has(header.proposer)) {
    fail('VERIFY_BAD_SIGNATURE', `proposer ${header.proposer} is not in the league`, {
      proposer: header.proposer,
    });
  }
  const blockId = blockIdOf(crypto, header);
  const key = committee.keys[header.proposer]!;
  if (!crypto.bls.verify(header.proposerSignature, blockId, key)) {
    fail('VERIFY_BAD_SIGNATURE', 'proposer signature does not verify', { proposer: header.proposer });
  }
  return blockId;
}

/** Grade 2: more than 2/3 of the committee signed the commit vote for this block. */
export function verifyFinalityCertificate(
  crypto: Crypto,
  committee: PreparedCommittee,
  cert: FinalityCertificate,
  blockId: Uint8Array,
  header: BlockHeader,
): void {
  if (
    !equalBytes(cert.blockId, blockId) ||
    cert.height !== header.height ||
    cert.shard !== header.shard ||
    cert.epoch !== header.epoch
  ) {
    fail('VERIFY_INVALID_FIELD', 'certificate is for another block');
  }
  verifyCollectiveSignature(
    crypto,
    committee,
    voteMessage(crypto, VotePhase.commit, cert.view, blockId),
    cert.signature,
  );
}

export interface TxInclusion {
  readonly grade: 1 | 2;
  readonly blockId: Uint8Array;
  readonly height: number;
}

/** The transaction `txId` is in the proven block, at grade 2 if a valid certificate comes with it. */
export function verifyTxInclusion(
  crypto: Crypto,
  committee: PreparedCommittee,
  txId: Uint8Array,
  inclusion: TxInclusionProof,
): TxInclusion {
  const { header, proof, certificate } = inclusion;
  const blockId = verifyHeader(crypto, committee, header);
  if (proof.count !== header.txCount) {
    fail('VERIFY_PROOF_INVALID', `proof is for ${proof.count} transactions, header has ${header.txCount}`);
  }
  verifyMerkleProof(crypto, header.txRoot, txId, proof);
  if (certificate) verifyFinalityCertificate(crypto, committee, certificate, blockId, header);
  return { grade: certificate ? 2 : 1, blockId, height: header.height };
}
