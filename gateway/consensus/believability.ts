/**
 * Believability (docs/consensus.md §2.1), in integer arithmetic with fractions in parts per million (ppm),
 * rounding down at each step, so every node computes the same weight:
 *
 *   r  = (reviewScoreSum / 4 + P/2) / (reviewStakeSum + P)       review score, P = minValidatorStake (whole IOST)
 *   b  = (done + 1) / (done + missed + 2)                         behaviour score
 *   ρ  = (r + b) / 2                                              reputation
 *   φ  = 1 + min(servi, σmax) / (2 σmax)                          servi factor, σmax = epochLength
 *   B  = floor(S · (1/2 + ρ/2) · φ)                               S = stake in whole IOST
 */

import type { ChainParams } from '../../core/genesis.js';
import { IOST_UNIT } from '../../core/token.js';

export const PPM = 1_000_000n;

export interface BelievabilityInputs {
  /** Staked amount in smallest units. */
  readonly stake: bigint;
  readonly servi: number;
  readonly done: number;
  readonly missed: number;
  /** Σ reviewerStake(whole IOST) · (rating − 1), ratings 1..5. */
  readonly reviewScoreSum: bigint;
  /** Σ reviewerStake(whole IOST). */
  readonly reviewStakeSum: bigint;
  readonly slashed: boolean;
}

export interface Believability {
  readonly reviewPpm: bigint;
  readonly behaviourPpm: bigint;
  readonly reputationPpm: bigint;
  readonly serviFactorPpm: bigint;
  /** The committee weight: 0 when slashed or without stake. */
  readonly weight: bigint;
}

export function believability(v: BelievabilityInputs, params: ChainParams): Believability {
  const prior = params.minValidatorStake / IOST_UNIT;
  // (Σ stake·(rating−1)/4 + P/2) / (Σ stake + P): a review score in [0, 1] pulled toward 1/2 by the prior.
  const reviewPpm = ((v.reviewScoreSum * PPM) / 4n + (prior * PPM) / 2n) / (v.reviewStakeSum + prior || 1n);
  const behaviourPpm = (BigInt(v.done + 1) * PPM) / BigInt(v.done + v.missed + 2);
  const reputationPpm = (reviewPpm + behaviourPpm) / 2n;
  const serviMax = BigInt(Math.max(1, params.epochLength));
  const servi = BigInt(Math.min(Math.max(v.servi, 0), params.epochLength));
  const serviFactorPpm = PPM + (servi * PPM) / (2n * serviMax);
  const wholeStake = v.stake / IOST_UNIT;
  const weight = v.slashed
    ? 0n
    : (((wholeStake * (PPM / 2n + reputationPpm / 2n)) / PPM) * serviFactorPpm) / PPM;
  return { reviewPpm, behaviourPpm, reputationPpm, serviFactorPpm, weight };
}
