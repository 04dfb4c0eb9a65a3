/** device/anchor.ts: strict canonical encoding, and anchors that must be refused at boot. */
import { describe, expect, it } from 'vitest';
import { encodeCbor } from '../../../core/cbor.js';
import { type Anchor, decodeAnchor, encodeAnchor } from '../../../device/anchor.js';
import { signCollective } from '../../helpers/chain.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import { FakeChain, genesisAnchor, makeCommittees } from '../../helpers/device-gateway.js';

const [c1, c2] = makeCommittees(2, 4, 'anchor');
const chain = new FakeChain(new Uint8Array(32).fill(1), c1!);
chain.seal();
chain.seal(c2);

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'none';
}

describe('trust anchor', () => {
  it('round-trips a genesis anchor and a state-block anchor', () => {
    const g = genesisAnchor(chain, c1!);
    expect(decodeAnchor(crypto, encodeAnchor(g))).toEqual(g);
    const s: Anchor = {
      kind: 'stateBlock',
      genesisHash: chain.genesisHash,
      committee: c1!.committee,
      stateBlock: chain.sealed[1]!.stateBlock,
      nextCommittee: c2!.committee,
    };
    const bytes = encodeAnchor(s);
    expect(decodeAnchor(crypto, bytes)).toEqual(s);
  });

  it('refuses non-canonical bytes, trailing bytes and unknown versions', () => {
    const bytes = encodeAnchor(genesisAnchor(chain, c1!));
    // 0x84 (array of 4) widened to 0x98 0x04.
    const widened = new Uint8Array([0x98, 0x04, ...bytes.subarray(1)]);
    expect(code(() => decodeAnchor(crypto, widened))).toBe('DEVICE_ANCHOR_INVALID');
    expect(code(() => decodeAnchor(crypto, new Uint8Array([...bytes, 0])))).toBe('DEVICE_ANCHOR_INVALID');
    const v2 = bytes.slice();
    v2[1] = 2;
    expect(code(() => decodeAnchor(crypto, v2))).toBe('DEVICE_ANCHOR_INVALID');
    expect(code(() => decodeAnchor(crypto, encodeCbor([1, 9, new Uint8Array(32)])))).toBe(
      'DEVICE_ANCHOR_INVALID',
    );
  });

  it('refuses a state-block anchor whose block the committee did not sign, or a transition without its committee', () => {
    const sb = chain.sealed[0]!.stateBlock;
    const forged: Anchor = {
      kind: 'stateBlock',
      genesisHash: chain.genesisHash,
      committee: c1!.committee,
      stateBlock: { ...sb, signature: signCollective(c2!, new Uint8Array(32), [0, 1, 2]) },
      nextCommittee: null,
    };
    expect(code(() => decodeAnchor(crypto, encodeAnchor(forged)))).toBe('DEVICE_ANCHOR_INVALID');
    const missing: Anchor = { ...forged, stateBlock: chain.sealed[1]!.stateBlock };
    expect(code(() => decodeAnchor(crypto, encodeAnchor(missing)))).toBe('DEVICE_ANCHOR_INVALID');
  });
});
