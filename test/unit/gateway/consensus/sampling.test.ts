/** The sample of signatures a validator checks in a block it did not propose (docs/consensus.md §5). */
import { describe, expect, it } from 'vitest';
import { signatureSample } from '../../../../gateway/consensus/sampling.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';

const crypto = createNativeCrypto();

function blsKey(label: number): Uint8Array {
  const sk = crypto.sha256(Uint8Array.of(label));
  sk[0] = 1; // below the group order
  return sk;
}

const picks = (f: (i: number) => boolean, n: number): number[] =>
  Array.from({ length: n }, (_, i) => i).filter((i) => f(i));

describe('signatureSample', () => {
  const block = crypto.sha256(Uint8Array.of(7));

  it('checks everything at fraction 1', () => {
    expect(picks(signatureSample(crypto, blsKey(1), block, 1), 500)).toHaveLength(500);
  });

  it('checks about the fraction asked for', () => {
    for (const f of [0.05, 0.25, 0.5]) {
      const n = 8000;
      const got = picks(signatureSample(crypto, blsKey(2), block, f), n).length / n;
      // More than 4 standard deviations of a binomial proportion away would fail.
      const sd = Math.sqrt((f * (1 - f)) / n);
      expect(Math.abs(got - f)).toBeLessThan(4.5 * sd);
    }
  });

  it('is the same for one validator and block, and differs across validators and blocks', () => {
    const a = picks(signatureSample(crypto, blsKey(3), block, 0.3), 400);
    expect(picks(signatureSample(crypto, blsKey(3), block, 0.3), 400)).toEqual(a);
    expect(picks(signatureSample(crypto, blsKey(4), block, 0.3), 400)).not.toEqual(a);
    const other = crypto.sha256(Uint8Array.of(8));
    expect(picks(signatureSample(crypto, blsKey(3), other, 0.3), 400)).not.toEqual(a);
  });
});
