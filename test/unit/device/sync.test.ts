/**
 * device/sync.ts: following state blocks across committee changes, and every way a gateway can try to
 * move the head with something the committees did not sign.
 */
import { describe, expect, it } from 'vitest';
import { equalBytes } from '../../../core/bytes.js';
import type { IosnetError } from '../../../core/errors.js';
import { DeviceError } from '../../../device/errors.js';
import { StateBlockSync } from '../../../device/sync.js';
import { makeStateBlock, signCollective } from '../../helpers/chain.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import { FakeChain, genesisAnchor, makeCommittees } from '../../helpers/device-gateway.js';

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DeviceError);
    expect((err as IosnetError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}, nothing was thrown`);
}

const [c1, c2, c3] = makeCommittees(3);
const attacker = makeCommittees(1, 4, 'attacker')[0]!;

function chainOf(): FakeChain {
  const chain = new FakeChain(new Uint8Array(32).fill(7), c1!);
  chain.seal(); // 0 by c1
  chain.seal(c2); // 1 by c1, names c2
  chain.seal(); // 2 by c2
  chain.seal(c3); // 3 by c2, names c3
  chain.seal(); // 4 by c3
  return chain;
}
const chain = chainOf();
const step = (i: number) => chain.sealed[i]!;

function freshSync(): StateBlockSync {
  return new StateBlockSync(crypto, genesisAnchor(chain, c1!));
}

describe('StateBlockSync', () => {
  it('follows every state block across two committee changes', () => {
    const sync = freshSync();
    for (let i = 0; i < 5; i++) expect(sync.apply(step(i))).toBe('applied');
    expect(sync.head.stateBlock!.index).toBe(4);
    expect(equalBytes(sync.head.committee.hash, c3!.hash)).toBe(true);
    expect(equalBytes(sync.head.previousCommittee!.hash, c2!.hash)).toBe(true);
  });

  it('takes the sparse path: transitions plus the latest block', () => {
    const sync = freshSync();
    expect(sync.applyAll([step(1), step(3), step(4)])).toBe(3);
    expect(sync.head.stateBlock!.index).toBe(4);
  });

  it('treats the head again as known and older blocks as old', () => {
    const sync = freshSync();
    sync.applyAll([step(0), step(1), step(2)]);
    expect(sync.apply(step(2))).toBe('known');
    expect(sync.apply(step(1))).toBe('old');
  });

  it('keeps at most two committees (bounded memory)', () => {
    const sync = freshSync();
    sync.applyAll([step(1), step(3), step(4)]);
    expect(sync.committeeFor(3)).toBeDefined();
    expect(sync.committeeFor(2)).toBeDefined();
    expect(sync.committeeFor(1)).toBeUndefined();
  });

  it('refuses a forged state block (signed by another committee) and keeps the head', () => {
    const sync = freshSync();
    sync.apply(step(0));
    const honest = step(1).stateBlock;
    const forged = {
      ...makeStateBlock(c1!, {
        index: 1,
        previous: step(0).id,
        fromHeight: 16,
        toHeight: 31,
        stateRoot: new Uint8Array(32).fill(9),
      }).stateBlock,
    };
    const wrongSigners = { ...forged, signature: signCollective(attacker, new Uint8Array(32), [0, 1, 2, 3]) };
    expectCode(
      () => sync.apply({ stateBlock: wrongSigners, nextCommittee: null }),
      'DEVICE_STATE_BLOCK_FORGED',
    );
    // A valid signature over other bytes: the state root was swapped after signing.
    const swapped = { ...honest, stateRoot: new Uint8Array(32).fill(1) };
    expectCode(
      () => sync.apply({ stateBlock: swapped, nextCommittee: step(1).nextCommittee }),
      'DEVICE_TRANSITION_UNSIGNED',
    );
    const swapped0 = { ...step(0).stateBlock, index: 1, previous: step(0).id, fromHeight: 16, toHeight: 31 };
    expectCode(() => sync.apply({ stateBlock: swapped0, nextCommittee: null }), 'DEVICE_STATE_BLOCK_FORGED');
    expect(sync.head.stateBlock!.index).toBe(0);
  });

  it('refuses an under-signed state block (2/3 of the weight or less)', () => {
    const sync = freshSync();
    const fields = { index: 0, fromHeight: 0, toHeight: 15, stateRoot: step(0).stateBlock.stateRoot };
    // Members sorted by key; pick signers whose weight is at most 2/3 of the total.
    const members = c1!.committee.members;
    const total = members.reduce((s, m) => s + m.weight, 0);
    const light: number[] = [];
    let w = 0;
    for (const i of members.map((_m, i) => i).sort((a, b) => members[a]!.weight - members[b]!.weight)) {
      if ((w + members[i]!.weight) * 3 > total * 2) break;
      light.push(i);
      w += members[i]!.weight;
    }
    const under = makeStateBlock(
      c1!,
      fields,
      light.sort((a, b) => a - b),
    ).stateBlock;
    expectCode(
      () => sync.apply({ stateBlock: under, nextCommittee: null }),
      'DEVICE_STATE_BLOCK_UNDERSIGNED',
    );
    expect(sync.head.stateBlock).toBeNull();
  });

  it('refuses a committee transition not signed by the previous committee', () => {
    const sync = freshSync();
    sync.apply(step(0));
    // The next committee signs its own appointment (the block that names it), instead of c1.
    const selfAppointed = makeStateBlock(c2!, {
      index: 1,
      previous: step(0).id,
      fromHeight: 16,
      toHeight: 31,
      committee: c1!.hash,
      nextCommittee: c2!.hash,
      epoch: 1,
    }).stateBlock;
    expectCode(
      () => sync.apply({ stateBlock: selfAppointed, nextCommittee: c2!.committee }),
      'DEVICE_TRANSITION_UNSIGNED',
    );
    // Blocks of epochs 2 and 3 without the transitions that name their committees.
    expectCode(() => sync.apply(step(2)), 'DEVICE_TRANSITION_UNSIGNED');
    expectCode(() => sync.apply(step(4)), 'DEVICE_TRANSITION_UNSIGNED');
    // The honest transition, but carrying the attacker's committee instead of the one it names.
    expectCode(
      () => sync.apply({ stateBlock: step(1).stateBlock, nextCommittee: attacker.committee }),
      'DEVICE_TRANSITION_UNSIGNED',
    );
    // A transition with no committee at all.
    expectCode(
      () => sync.apply({ stateBlock: step(1).stateBlock, nextCommittee: null }),
      'DEVICE_TRANSITION_UNSIGNED',
    );
    expect(sync.head.stateBlock!.index).toBe(0);
    expect(equalBytes(sync.head.committee.hash, c1!.hash)).toBe(true);
  });

  it('refuses a block that does not link to the head', () => {
    const sync = freshSync();
    sync.apply(step(0));
    const badPrev = makeStateBlock(c1!, {
      index: 1,
      previous: new Uint8Array(32).fill(3),
      fromHeight: 16,
      toHeight: 31,
    }).stateBlock;
    expectCode(
      () => sync.apply({ stateBlock: badPrev, nextCommittee: null }),
      'DEVICE_STATE_BLOCK_NOT_SUCCESSOR',
    );
    const overlap = makeStateBlock(c1!, {
      index: 5,
      fromHeight: 10,
      toHeight: 90,
      previous: new Uint8Array(32),
    }).stateBlock;
    expectCode(
      () => sync.apply({ stateBlock: overlap, nextCommittee: null }),
      'DEVICE_STATE_BLOCK_NOT_SUCCESSOR',
    );
  });

  it('reports a second, validly signed state block at the head index as committee equivocation', () => {
    const sync = freshSync();
    sync.apply(step(0));
    const other = makeStateBlock(c1!, { index: 0, stateRoot: new Uint8Array(32).fill(5) }).stateBlock;
    expectCode(() => sync.apply({ stateBlock: other, nextCommittee: null }), 'DEVICE_STATE_BLOCK_FORGED');
  });

  it('starts from a state-block anchor (a transition, with its next committee)', () => {
    const s = step(1);
    const sync = new StateBlockSync(crypto, {
      kind: 'stateBlock',
      genesisHash: chain.genesisHash,
      committee: c1!.committee,
      stateBlock: s.stateBlock,
      nextCommittee: c2!.committee,
    });
    expect(sync.nextIndex).toBe(2);
    expect(sync.applyAll([step(2), step(3), step(4)])).toBe(3);
  });
});
