/** Final blocks for store tests: real encodings, placeholder BLS signatures (the store checks none). */
import { encodeBlock, lastCommitHash, type ParsedBlock, parseBlock } from '../../../../core/block.js';
import type { Crypto } from '../../../../core/crypto.js';
import { blockIdOf, type FinalityCertificate } from '../../../../core/header.js';
import { merkleRoot } from '../../../../core/merkle.js';
import type { Transaction } from '../../../../core/tx.js';
import { TEST_CHAIN_ID, TEST_TIME } from '../../../helpers/chain.js';

export interface FinalBlock {
  readonly block: ParsedBlock;
  readonly certificate: FinalityCertificate;
}

export function finalBlock(
  crypto: Crypto,
  opts: {
    height: number;
    parent: Uint8Array;
    txs: readonly { tx: Transaction; id: Uint8Array }[];
    stateRoot: Uint8Array;
    lastCommit: FinalityCertificate | null;
    epoch?: number;
  },
): FinalBlock {
  const fields = {
    chainId: TEST_CHAIN_ID,
    shard: 0,
    height: opts.height,
    epoch: opts.epoch ?? 0,
    view: 0,
    parent: opts.parent,
    txRoot: merkleRoot(
      crypto,
      opts.txs.map((t) => t.id),
    ),
    stateRoot: opts.stateRoot,
    proposer: 0,
    time: TEST_TIME + opts.height * 500,
    txCount: opts.txs.length,
    lastCommit: lastCommitHash(crypto, opts.lastCommit),
  };
  const header = { ...fields, proposerSignature: new Uint8Array(96) };
  const bytes = encodeBlock({ header, txs: opts.txs.map((t) => t.tx), lastCommit: opts.lastCommit });
  const block = parseBlock(crypto, bytes);
  const certificate: FinalityCertificate = {
    blockId: blockIdOf(crypto, fields),
    shard: 0,
    height: opts.height,
    epoch: fields.epoch,
    view: 0,
    signature: { signers: Uint8Array.of(0xe0), signature: new Uint8Array(96) },
  };
  return { block, certificate };
}
