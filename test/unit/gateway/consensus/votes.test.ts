import { describe, expect, it } from 'vitest';
import { verifyCollectiveSignature } from '../../../../core/committee.js';
import { VotePhase, voteMessage } from '../../../../core/header.js';
import { decodeVote, encodeVote, type Vote } from '../../../../gateway/consensus/messages.js';
import { HeightVotes } from '../../../../gateway/consensus/votes.js';
import { fakeHash, makeCommittee } from '../../../helpers/chain.js';
import { testCrypto as crypto } from '../../../helpers/crypto.js';
import { blsSign } from '../../../helpers/keys.js';

const tc = makeCommittee({ weights: [40, 30, 20, 10], label: 'votes' });
const byWeight = (w: number) => tc.committee.members.findIndex((m) => m.weight === w);
const A = fakeHash('block A');
const B = fakeHash('block B');

function vote(
  voter: number,
  blockId: Uint8Array,
  opts: { phase?: 1 | 2; view?: number; height?: number; forge?: boolean } = {},
): [Vote, Uint8Array] {
  const phase = opts.phase ?? VotePhase.prepare;
  const view = opts.view ?? 0;
  const signer = opts.forge ? tc.keys[(voter + 1) % 4]! : tc.keys[voter]!;
  const v: Vote = {
    phase,
    shard: 0,
    height: opts.height ?? 5,
    view,
    blockId,
    voter,
    signature: blsSign(signer, voteMessage(crypto, phase, view, blockId)),
    stateBlockSignature: null,
  };
  const bytes = encodeVote(v);
  expect(decodeVote(bytes)).toEqual(v);
  return [v, bytes];
}

function book(): HeightVotes {
  return new HeightVotes(crypto, tc.prepared, 0, 5);
}

describe('HeightVotes', () => {
  it('forms a certificate only above 2/3 of the weight, and it verifies as a collective signature', () => {
    const b = book();
    b.add(...vote(byWeight(40), A), 'p1');
    b.add(...vote(byWeight(20), A), 'p2');
    expect(b.certificate(VotePhase.prepare, 0, A, 1)).toBeUndefined(); // 60 of 100
    b.add(...vote(byWeight(10), A), 'p3');
    const c = b.certificate(VotePhase.prepare, 0, A, 1); // 70 of 100
    expect(c).toBeDefined();
    expect(c!.certificate.view).toBe(0);
    verifyCollectiveSignature(
      crypto,
      tc.prepared,
      voteMessage(crypto, VotePhase.prepare, 0, A),
      c!.certificate.signature,
    );
  });

  it('drops forged votes found by the bulk check and reports who relayed them', () => {
    const b = book();
    b.add(...vote(byWeight(40), A), 'honest');
    b.add(...vote(byWeight(30), A, { forge: true }), 'liar');
    b.add(...vote(byWeight(20), A), 'honest');
    expect(b.certificate(VotePhase.prepare, 0, A, 1)).toBeUndefined(); // 60 genuine after the forgery is dropped
    expect(b.forgedFrom).toEqual(['liar']);
    b.add(...vote(byWeight(30), A), 'honest'); // the genuine vote of that member now counts
    expect(b.certificate(VotePhase.prepare, 0, A, 1)).toBeDefined();
  });

  it('detects equivocation: two genuine votes of one member for one slot', () => {
    const b = book();
    const first = vote(byWeight(40), A);
    const second = vote(byWeight(40), B);
    expect(b.add(...first, 'p').accepted).toBe(true);
    const r = b.add(...second, 'p');
    expect(r.equivocation).toEqual([first[1], second[1]]);
    // A forged "second vote" is not evidence.
    const b2 = book();
    b2.add(...vote(byWeight(30), A), 'p');
    expect(b2.add(...vote(byWeight(30), B, { forge: true }), 'liar').equivocation).toBeUndefined();
    expect(b2.forgedFrom).toEqual(['liar']);
  });

  it('ignores votes of another height and repeated votes', () => {
    const b = book();
    expect(b.add(...vote(0, A, { height: 6 }), 'p').accepted).toBe(false);
    expect(b.add(...vote(0, A), 'p').accepted).toBe(true);
    expect(b.add(...vote(0, A), 'p').accepted).toBe(false);
  });

  it('counts "more than 2/3 voted something" only with genuine signatures', () => {
    const b = book();
    b.add(...vote(byWeight(40), A), 'p');
    b.add(...vote(byWeight(30), B), 'p');
    expect(b.verifiedWeightIfQuorum(VotePhase.prepare, 0)).toBe(true);
    const forged = book();
    forged.add(...vote(byWeight(40), A, { forge: true }), 'liar');
    forged.add(...vote(byWeight(30), B), 'p');
    expect(forged.verifiedWeightIfQuorum(VotePhase.prepare, 0)).toBe(false);
  });

  it('jumps views only on more than 1/3 of genuine weight from a higher view', () => {
    const b = book();
    b.add(...vote(byWeight(30), A, { view: 3 }), 'p');
    expect(b.highestViewAbove(0)).toBeUndefined(); // 30 is not above 1/3 of 100
    b.add(...vote(byWeight(10), A, { view: 3, forge: true }), 'liar');
    expect(b.highestViewAbove(0)).toBeUndefined(); // a forgery does not count
    b.add(...vote(byWeight(20), A, { view: 2 }), 'p');
    expect(b.highestViewAbove(0)).toBeUndefined(); // 30 in view 3, 20 in view 2
    b.add(...vote(byWeight(40), A, { view: 3, phase: 2 }), 'p');
    expect(b.highestViewAbove(0)).toBe(3);
  });
});
