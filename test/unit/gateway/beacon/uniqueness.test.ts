/**
 * The unbiasability argument of docs/consensus.md §3.2 rests on uniqueness: whichever t valid partials a
 * proposer combines, it gets the same group signature, hence the same seed. Property test over random
 * t-subsets (and supersets, in random order) of one DKG's partials.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  beaconMessage,
  beaconSeed,
  combine,
  type PartialSignature,
  partialSign,
} from '../../../../gateway/consensus/beacon/index.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { committee, type DkgRun, runDkg } from './fixtures.js';

const native = createNativeCrypto();

describe('uniqueness of the group signature', () => {
  const tc = committee('unique-7', [1, 2, 3, 50, 8, 13, 21]);
  const msg = beaconMessage(native, tc.ctx.chainId, tc.ctx.shard, tc.ctx.epoch);
  let run: DkgRun;
  let partials: PartialSignature[];
  let reference: Uint8Array;
  beforeAll(() => {
    run = runDkg(tc, { rngSeed: 'unique' });
    partials = [...run.shares.values()].flatMap((s) => partialSign(native, s, msg));
    reference = combine(partials, run.result.threshold);
    const pk = native.bls.parsePublicKey(run.result.groupPublicKey)!;
    expect(native.bls.verify(reference, msg, pk)).toBe(true);
  });

  it('every t-subset of the partials combines to the same signature', () => {
    const t = run.result.threshold;
    fc.assert(
      fc.property(fc.shuffledSubarray(partials, { minLength: t, maxLength: t }), (subset) => {
        expect(combine(subset, t)).toEqual(reference);
      }),
      { numRuns: 40 },
    );
  });

  it('so does any larger set, in any order, with duplicates', () => {
    const t = run.result.threshold;
    fc.assert(
      fc.property(
        fc.shuffledSubarray(partials, { minLength: t }),
        fc.array(fc.integer({ min: 0, max: partials.length - 1 }), { maxLength: 3 }),
        (subset, dups) => {
          const withDups = [...subset, ...dups.map((i) => partials[i]!)];
          const sig = combine(withDups, t);
          expect(sig).toEqual(reference);
          expect(beaconSeed(native, sig)).toEqual(beaconSeed(native, reference));
        },
      ),
      { numRuns: 20 },
    );
  });
});
