import { describe, expect, it } from 'vitest';
import { DEFAULT_CHAIN_PARAMS } from '../../../../core/genesis.js';
import { IOST_UNIT } from '../../../../core/token.js';
import { type BelievabilityInputs, believability } from '../../../../gateway/consensus/believability.js';

const params = { ...DEFAULT_CHAIN_PARAMS, epochLength: 256, minValidatorStake: 1_000_000n * IOST_UNIT };
const base: BelievabilityInputs = {
  stake: 10_000_000n * IOST_UNIT,
  servi: 0,
  done: 0,
  missed: 0,
  reviewScoreSum: 0n,
  reviewStakeSum: 0n,
  slashed: false,
};

describe('believability (docs/consensus.md §2.1)', () => {
  it('a new validator: neutral reputation 1/2, no servi -> 3/4 of its stake', () => {
    const b = believability(base, params);
    expect(b.reviewPpm).toBe(500_000n);
    expect(b.behaviourPpm).toBe(500_000n);
    expect(b.serviFactorPpm).toBe(1_000_000n);
    expect(b.weight).toBe(7_500_000n);
  });

  it('the extremes are 1/2 and 3/2 of the stake: reputation and servi move weight at most 3x', () => {
    const worst = believability(
      { ...base, done: 0, missed: 10 ** 9, reviewScoreSum: 0n, reviewStakeSum: 10n ** 15n },
      params,
    );
    const best = believability(
      {
        ...base,
        servi: params.epochLength,
        done: 10 ** 9,
        missed: 0,
        reviewScoreSum: 4n * 10n ** 15n,
        reviewStakeSum: 10n ** 15n,
      },
      params,
    );
    expect(Number(worst.weight)).toBeGreaterThanOrEqual(5_000_000);
    expect(Number(worst.weight)).toBeLessThan(5_000_010);
    expect(Number(best.weight)).toBeLessThanOrEqual(15_000_000);
    expect(Number(best.weight)).toBeGreaterThan(14_999_000);
  });

  it('is linear in stake (splitting a stake across identities gains nothing)', () => {
    const whole = believability({ ...base, stake: 10_000_000n * IOST_UNIT }, params).weight;
    const half = believability({ ...base, stake: 5_000_000n * IOST_UNIT }, params).weight;
    expect(half * 2n).toBe(whole);
  });

  it('reviews weigh by reviewer stake, pulled toward 1/2 by a prior of minValidatorStake', () => {
    // One 5-star review from a reviewer staking 1,000 IOST against a 1,000,000-IOST prior:
    // (1000·4/4 + P/2) / (1000 + P) = 0.5004995 -> 500,499 ppm.
    const small = believability({ ...base, reviewScoreSum: 4_000n, reviewStakeSum: 1_000n }, params);
    expect(small.reviewPpm).toBe(500_499n);
    // Reviews staking as much as the prior, all 1-star: (0 + P/2) / (P + P) = 1/4.
    const bad = believability({ ...base, reviewScoreSum: 0n, reviewStakeSum: 1_000_000n }, params);
    expect(bad.reviewPpm).toBe(250_000n);
  });

  it('servi is capped at epochLength and slashed validators weigh nothing', () => {
    expect(believability({ ...base, servi: 10_000 }, params).serviFactorPpm).toBe(1_500_000n);
    expect(believability({ ...base, slashed: true }, params).weight).toBe(0n);
  });
});
