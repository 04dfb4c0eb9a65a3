/**
 * Building a block as proposer and checking one before voting for it (docs/consensus.md §4.3).
 */
import {
  type Block,
  encodeBlock,
  lastCommitHash,
  type ParsedBlock,
  verifyBlockBody,
} from '../../core/block.js';
import { equalBytes } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { IosnetError, VerifyError } from '../../core/errors.js';
import type { BlockHeader, BlockHeaderFields, FinalityCertificate } from '../../core/header.js';
import { blockIdOf } from '../../core/header.js';
import { merkleRoot } from '../../core/merkle.js';
import { isSystemTx, type Transaction } from '../../core/tx.js';
import type { Mempool, PendingTx } from '../mempool/interface.js';
import type { BlockContext, BlockExecution, ChainState } from '../state/interface.js';
import { latin1 } from '../util/latin1.js';

/** A block is invalid for a stated reason (the node prepare-votes nil). */
export class BlockInvalidError extends IosnetError<'BLOCK_INVALID'> {
  constructor(reason: string, data: Record<string, unknown> = {}) {
    super('BLOCK_INVALID', `block invalid: ${reason}`, { reason, ...data });
  }
}

/** What the node knows about the last final block, to build or check its child. */
export interface ParentInfo {
  readonly height: number;
  /** Block id of the parent (the genesis hash at height 0). */
  readonly id: Uint8Array;
  /** Parent's header time (genesis time at height 0). */
  readonly time: number;
  /** The parent's commit certificate (null for genesis). */
  readonly certificate: FinalityCertificate | null;
}

export interface BuiltBlock {
  readonly parsed: ParsedBlock;
  readonly execution: BlockExecution;
}

export interface BuildOptions {
  readonly maxTxs: number;
  readonly maxBytes: number;
  /**
   * At most this many relayed transactions not yet checked are checked (and included) per block: the rest
   * wait for a later block, so a large unchecked pool cannot make building outlast the propose timeout.
   */
  readonly maxConfirms: number;
}

/**
 * Executes mempool transactions on top of the parent state and seals a block. Transactions that no longer
 * apply (a nonce already used, funds spent) are skipped, and so are forged ones: every signature is checked,
 * at admission (from clients) or here (relayed by peers).
 */
export function buildBlock(
  crypto: Crypto,
  deps: { state: ChainState; mempool: Mempool },
  ctx: BlockContext,
  parent: ParentInfo,
  proposerIndex: number,
  signHeader: (blockId: Uint8Array) => Uint8Array,
  limits: BuildOptions,
  now: number,
): BuiltBlock {
  const execution = deps.state.beginBlock(ctx, { verifySignatures: false });
  const txs: Transaction[] = [];
  const ids: Uint8Array[] = [];
  const encodings: Uint8Array[] = [];
  const failedSystem: Uint8Array[] = [];
  let confirms = 0;
  // Senders with a transaction left out: their later nonces cannot apply in this block, so they are not tried
  // (each try would build and throw a TxError). Keyed one char per byte; empty in the common case.
  const stalled = new Set<string>();
  const senderKey = (p: PendingTx) => latin1(p.tx.body.sender);
  for (const p of deps.mempool.select(limits, deps.state, now)) {
    if (stalled.size > 0 && stalled.has(senderKey(p))) continue;
    const system = isSystemTx(p.tx.body.payload.kind);
    // A proposer checks every signature it puts in a block (relayed transactions outside its sample were
    // admitted unchecked). Past the budget they wait, and so do their senders' later nonces.
    if ((!p.verified && confirms++ >= limits.maxConfirms) || !deps.mempool.confirm(p)) {
      if (!system) stalled.add(senderKey(p));
      continue;
    }
    try {
      execution.apply(p.tx, p.id);
      txs.push(p.tx);
      ids.push(p.id);
      encodings.push(p.bytes);
    } catch (e) {
      if (!(e instanceof IosnetError)) throw e;
      // A system transaction that fails now fails for good (a lost race, a closed window): forget it.
      if (system) failedSystem.push(p.id);
      else stalled.add(senderKey(p));
    }
  }
  if (failedSystem.length > 0) deps.mempool.drop(failedSystem);
  const stateRoot = execution.finish();
  const fields: BlockHeaderFields = {
    chainId: ctx.chainId,
    shard: ctx.shard,
    height: ctx.height,
    epoch: ctx.epoch,
    view: ctx.view,
    parent: parent.id,
    txRoot: merkleRoot(crypto, ids),
    stateRoot,
    proposer: proposerIndex,
    time: ctx.time,
    txCount: txs.length,
    lastCommit: lastCommitHash(crypto, parent.certificate),
  };
  const blockId = blockIdOf(crypto, fields);
  const header: BlockHeader = { ...fields, proposerSignature: signHeader(blockId) };
  const block: Block = { header, txs, lastCommit: parent.certificate };
  // The pool's exact encodings, copied: re-encoding thousands of transactions was a visible share of a build.
  const bytes = encodeBlock(block, encodings);
  return { parsed: { block, blockId, txIds: ids, bytes }, execution };
}

/** Header rules that need no execution: chain, position, proposer, time, body commitments. */
export function checkHeader(
  crypto: Crypto,
  parsed: ParsedBlock,
  expect: { chainId: string; shard: number; epoch: number; proposer: number },
  parent: ParentInfo,
  now: number,
  maxClockSkewMs: number,
): void {
  const h = parsed.block.header;
  if (h.chainId !== expect.chainId || h.shard !== expect.shard)
    throw new BlockInvalidError('another chain or shard');
  if (h.height !== parent.height + 1)
    throw new BlockInvalidError('does not extend the last final block', { height: h.height });
  if (!equalBytes(h.parent, parent.id)) throw new BlockInvalidError('parent is not the last final block');
  if (h.epoch !== expect.epoch) throw new BlockInvalidError('wrong epoch', { epoch: h.epoch });
  if (h.proposer !== expect.proposer) throw new BlockInvalidError('proposer is not the one of its view');
  if (h.time <= parent.time) throw new BlockInvalidError('time does not advance');
  if (h.time > now + maxClockSkewMs)
    throw new BlockInvalidError('time is in the future', { time: h.time, now });
  try {
    verifyBlockBody(crypto, parsed.block, parsed.txIds);
  } catch (e) {
    if (e instanceof VerifyError) throw new BlockInvalidError(e.message);
    throw e;
  }
  const lc = parsed.block.lastCommit;
  if (parent.height === 0) {
    if (lc !== null) throw new BlockInvalidError('a first block carries no lastCommit');
  } else if (!lc || !equalBytes(lc.blockId, parent.id) || lc.height !== parent.height) {
    throw new BlockInvalidError('lastCommit is not a certificate of the parent');
  }
}

/**
 * Executes a proposed block and checks its state root. `skipSignature(i)` says which transactions' signatures
 * need no check (already verified by this node's mempool with identical signature bytes, or not sampled).
 */
export function executeBlock(
  state: ChainState,
  ctx: BlockContext,
  parsed: ParsedBlock,
  skipSignature: (index: number) => boolean,
): BlockExecution {
  const execution = state.beginBlock(ctx, { verifySignatures: (i) => !skipSignature(i) });
  parsed.block.txs.forEach((tx, i) => {
    try {
      execution.apply(tx, parsed.txIds[i]!);
    } catch (e) {
      if (e instanceof IosnetError)
        throw new BlockInvalidError(`transaction ${i}: ${e.code}: ${e.message}`, { index: i, cause: e.code });
      throw e;
    }
  });
  const root = execution.finish();
  if (!equalBytes(root, parsed.block.header.stateRoot)) {
    throw new BlockInvalidError('state root differs from the result of execution');
  }
  return execution;
}

/**
 * Transactions this node's mempool holds with the same signature bytes (same id AND same signatures): checked
 * on admission, or relayed and left outside this node's sample (docs/consensus.md §5) — either way their
 * check was decided already. Other transactions get the block's own sample.
 */
export function heldByMempool(mempool: Mempool, parsed: ParsedBlock): (index: number) => boolean {
  return (i) => {
    const pending = mempool.get(parsed.txIds[i]!);
    if (!pending) return false;
    // Decoded from the pool's own copy (decodeProposal's known transactions): the same bytes.
    if (pending.tx === parsed.block.txs[i]) return true;
    const sigs = parsed.block.txs[i]!.signatures;
    return (
      pending.tx.signatures.length === sigs.length &&
      sigs.every((s, k) => equalBytes(s, pending.tx.signatures[k]!))
    );
  };
}
