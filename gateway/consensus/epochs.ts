/**
 * Heights, epochs and state blocks (docs/consensus.md §3, §7). Height 0 is genesis; epoch e holds heights
 * e·L+1 .. (e+1)·L (L = epochLength); state block i covers heights i·K+1 .. (i+1)·K (K = stateBlockInterval),
 * so every epoch ends on a state block (L is a multiple of K: validateGenesis checks it).
 */
import type { ChainParams } from '../../core/genesis.js';

export function epochOf(height: number, params: ChainParams): number {
  return height <= 0 ? 0 : Math.floor((height - 1) / params.epochLength);
}

export function isLastOfEpoch(height: number, params: ChainParams): boolean {
  return height > 0 && height % params.epochLength === 0;
}

/** The index of the state block that height closes, or -1 if height does not close one. */
export function stateBlockIndexAt(height: number, params: ChainParams): number {
  return height > 0 && height % params.stateBlockInterval === 0 ? height / params.stateBlockInterval - 1 : -1;
}

export function stateBlockRange(
  index: number,
  params: ChainParams,
): { fromHeight: number; toHeight: number } {
  return {
    fromHeight: index * params.stateBlockInterval + 1,
    toHeight: (index + 1) * params.stateBlockInterval,
  };
}

/** 8-byte big-endian epoch number: the id of per-epoch records (committee, beacon, DKG). */
export function epochKey(epoch: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(epoch));
  return out;
}
