/**
 * Misbehaviour for the byzantine test modes (tests/integration): a real node never calls these. They build
 * blocks an honest node must refuse and evidence must catch: a block with a forged transaction signature,
 * and a second, different block for the same proposer turn.
 */
import { encodeBlock, type ParsedBlock } from '../../core/block.js';
import type { Crypto } from '../../core/crypto.js';
import { type BlockHeaderFields, blockIdOf } from '../../core/header.js';
import { merkleRoot } from '../../core/merkle.js';
import { txIdOf } from '../../core/tx.js';

function reseal(
  crypto: Crypto,
  parsed: ParsedBlock,
  fields: BlockHeaderFields,
  txs: ParsedBlock['block']['txs'],
  sign: (id: Uint8Array) => Uint8Array,
): ParsedBlock {
  const txIds = txs.map((tx) => txIdOf(crypto, tx));
  const header = { ...fields, txRoot: merkleRoot(crypto, txIds), proposerSignature: new Uint8Array(96) };
  const blockId = blockIdOf(crypto, header);
  const signed = { ...header, proposerSignature: sign(blockId) };
  const block = { header: signed, txs, lastCommit: parsed.block.lastCommit };
  return { block, blockId, txIds, bytes: encodeBlock(block) };
}

/** The same block with its first transaction's signature flipped (its id, a hash of the body, is unchanged). */
export function corruptFirstSignature(
  crypto: Crypto,
  parsed: ParsedBlock,
  sign: (id: Uint8Array) => Uint8Array,
): ParsedBlock {
  const [first, ...rest] = parsed.block.txs;
  const sig = new Uint8Array(first!.signatures[0]!);
  sig[0]! ^= 0x01;
  const forged = { ...first!, signatures: [sig, ...first!.signatures.slice(1)] };
  return reseal(crypto, parsed, parsed.block.header, [forged, ...rest], sign);
}

/** A different block for the same turn (another timestamp, so another id). */
export function rebuildWithTime(
  crypto: Crypto,
  parsed: ParsedBlock,
  time: number,
  sign: (id: Uint8Array) => Uint8Array,
): ParsedBlock {
  return reseal(crypto, parsed, { ...parsed.block.header, time }, parsed.block.txs, sign);
}
