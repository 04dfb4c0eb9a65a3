/**
 * The block store: finalized blocks (exact bytes) with their commit certificates, height <-> id, the tx
 * index (txId -> height, index) for inclusion proofs, and the state blocks with the committees they name.
 *
 * What pruning keeps (non-archive): every block id and height (blockId, blockHeight), every state block and
 * committee, and bodies, certificates and tx index entries from the previous state block's fromHeight on.
 * A transaction in a pruned block has no Merkle proof any more; its inclusion is then shown through state:
 * the sender's AccountState (StateProof at a state block's toHeight) has a nonce above the transaction's,
 * so a transaction with that nonce from that sender executed, and the records a transaction creates
 * (device, service, file) are provable themselves. Which transaction it was is not provable after pruning:
 * archive nodes answer that.
 */
import type { ParsedBlock } from '../../core/block.js';
import type { Committee } from '../../core/committee.js';
import { IosnetError } from '../../core/errors.js';
import type { BlockHeader, FinalityCertificate } from '../../core/header.js';
import type { TxInclusionProof } from '../../core/proofs.js';
import type { StateBlock } from '../../core/state-block.js';
import type { Transaction } from '../../core/tx.js';

export type ChainErrorCode =
  /** The block is not the next height, does not extend the last block, or its certificate is for another. */
  | 'CHAIN_NOT_SUCCESSOR'
  /** The state block does not follow the last stored one, or a committee it names is missing. */
  | 'CHAIN_STATE_BLOCK_INVALID'
  /** bootstrap() on a store that already holds blocks. */
  | 'CHAIN_NOT_EMPTY'
  | 'CHAIN_CORRUPT';

export class ChainError extends IosnetError<ChainErrorCode> {}

export interface TxLocation {
  readonly height: number;
  readonly index: number;
}

/** A transaction of a stored block with what a light client needs to check it (protocol.md §12). */
export interface TxWithProof extends TxLocation {
  readonly tx: Transaction;
  readonly txBytes: Uint8Array;
  readonly proof: TxInclusionProof;
  /** 2: every stored block is final (grade 1 answers come from consensus, for proposals). */
  readonly grade: 2;
}

export interface FinalizedBlock {
  /** The block as parsed by core's parseBlock (its exact bytes, id and tx ids). */
  readonly block: ParsedBlock;
  readonly certificate: FinalityCertificate;
}

export interface BlockStore {
  /** Height of the last stored final block (0: none since genesis or the bootstrap height). */
  readonly finalizedHeight: number;
  /** Lowest height whose body is still stored. */
  readonly prunedBelow: number;
  /** Stores a final block; joins the caller's Database.transaction when there is one. */
  putFinalized(entry: FinalizedBlock): void;
  /**
   * Makes an empty store start after `height` (bootstrap from a state block: the next putFinalized is
   * height + 1, whose parent is not stored). Throws CHAIN_NOT_EMPTY otherwise.
   */
  bootstrap(height: number): void;
  getBlockBytes(height: number): Uint8Array | undefined;
  getBlock(height: number): ParsedBlock | undefined;
  getHeader(height: number): BlockHeader | undefined;
  getCertificate(height: number): FinalityCertificate | undefined;
  getBlockId(height: number): Uint8Array | undefined;
  getHeight(blockId: Uint8Array): number | undefined;
  getTxLocation(txId: Uint8Array): TxLocation | undefined;
  /** The transaction with its inclusion proof, or undefined when unknown or pruned. */
  getTransaction(txId: Uint8Array): TxWithProof | undefined;
  /** Stores a state block and the committees it names; prunes (non-archive). */
  putStateBlock(stateBlock: StateBlock, committees: readonly Committee[]): void;
  getStateBlock(index: number): StateBlock | undefined;
  latestStateBlock(): StateBlock | undefined;
  getCommittee(hash: Uint8Array): Committee | undefined;
  /** Deletes bodies, certificates and tx index entries below `height`; returns how many blocks went. */
  pruneBelow(height: number): number;
}
