/**
 * The light client's verification surface (core/verify.ts) against honest objects and against the lies a
 * gateway could tell: forged or under-signed state blocks, transitions not signed by the previous
 * committee, tampered or stale proofs, a lie about a balance, a hidden transaction.
 */
import { describe, expect, it } from 'vitest';
import { makeBitmap } from '../../../core/committee.js';
import { VerifyError } from '../../../core/errors.js';
import { addressOf } from '../../../core/identity.js';
import { merkleProof } from '../../../core/merkle.js';
import type { StateProof, TxInclusionProof } from '../../../core/proofs.js';
import { MemorySmtStore, SparseMerkleTree } from '../../../core/smt-store.js';
import { type AccountState, encodeAccount, stateKey, stateValueHash } from '../../../core/state.js';
import {
  verifyAccountProof,
  verifyCommitteeTransition,
  verifyStateBlock,
  verifyStateBlockLink,
  verifyTxInclusion,
} from '../../../core/verify.js';
import {
  fakeHash,
  makeBlock,
  makeCommittee,
  makeFinalityCertificate,
  makeHeader,
  makeStateBlock,
  signCollective,
  supermajoritySigners,
} from '../../helpers/chain.js';
import { testCrypto as crypto } from '../../helpers/crypto.js';
import { ed25519Key } from '../../helpers/keys.js';
import { makeTx } from '../../helpers/tx.js';

function expectVerifyError(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(VerifyError);
    expect((e as VerifyError).code).toBe(code);
    return;
  }
  expect.unreachable(`expected VerifyError ${code}`);
}

const epoch1 = makeCommittee({ epoch: 1, weights: [40, 30, 20, 10], label: 'c' });
// Epoch 2: other members (core checks a transition whatever the membership change; the <1/3 rotation
// rule is the consensus's, docs/consensus.md).
const epoch2 = makeCommittee({ epoch: 2, weights: [35, 30, 25, 10], label: 'n' });
const attacker = makeCommittee({ epoch: 1, weights: [40, 30, 20, 10], label: 'attacker' });
// Forgeries below claim every member signed, so the weight check passes and the signature check decides.
const ALL_FOUR = [0, 1, 2, 3];

describe('verifyStateBlock', () => {
  it('accepts a state block signed by more than 2/3 of the weight and returns its id', () => {
    const { stateBlock, id } = makeStateBlock(epoch1);
    expect(verifyStateBlock(crypto, stateBlock, epoch1.prepared)).toEqual(id);
  });

  it('refuses 2/3 of the weight or less (under-signed)', () => {
    // Members are sorted by key, so find them by weight. 40+30 = 70 of 100 is > 2/3; these are not:
    const byWeight = (w: number) => epoch1.committee.members.findIndex((m) => m.weight === w);
    for (const weights of [[40, 20], [30, 20, 10], [40], [10]]) {
      const { stateBlock } = makeStateBlock(epoch1, {}, weights.map(byWeight));
      expectVerifyError(
        () => verifyStateBlock(crypto, stateBlock, epoch1.prepared),
        'VERIFY_INSUFFICIENT_WEIGHT',
      );
    }
    const enough = makeStateBlock(epoch1, {}, [40, 30].map(byWeight)).stateBlock;
    expect(() => verifyStateBlock(crypto, enough, epoch1.prepared)).not.toThrow();
  });

  it('refuses a bitmap that claims signers whose signatures are not in the aggregate (forged)', () => {
    const { stateBlock, id } = makeStateBlock(epoch1);
    const onlyOne = signCollective(epoch1, id, [0]);
    const forged = {
      ...stateBlock,
      signature: { signers: stateBlock.signature.signers, signature: onlyOne.signature },
    };
    expectVerifyError(() => verifyStateBlock(crypto, forged, epoch1.prepared), 'VERIFY_BAD_SIGNATURE');
  });

  it('refuses a state block signed by keys outside the committee that names the committee', () => {
    const { stateBlock, id } = makeStateBlock(epoch1);
    const bySomeoneElse = signCollective(attacker, id, ALL_FOUR);
    const forged = { ...stateBlock, signature: bySomeoneElse };
    expectVerifyError(() => verifyStateBlock(crypto, forged, epoch1.prepared), 'VERIFY_BAD_SIGNATURE');
  });

  it('refuses a tampered body (the signature covers every field)', () => {
    const { stateBlock } = makeStateBlock(epoch1);
    const tampered = { ...stateBlock, stateRoot: fakeHash('a lie') };
    expectVerifyError(() => verifyStateBlock(crypto, tampered, epoch1.prepared), 'VERIFY_BAD_SIGNATURE');
  });

  it('refuses another chain, shard, epoch or signing committee', () => {
    const { stateBlock } = makeStateBlock(epoch1);
    expectVerifyError(
      () => verifyStateBlock(crypto, { ...stateBlock, chainId: 'other' }, epoch1.prepared),
      'VERIFY_WRONG_CHAIN',
    );
    expectVerifyError(
      () => verifyStateBlock(crypto, { ...stateBlock, shard: 1 }, epoch1.prepared),
      'VERIFY_WRONG_SHARD',
    );
    expectVerifyError(
      () => verifyStateBlock(crypto, { ...stateBlock, epoch: 2 }, epoch1.prepared),
      'VERIFY_COMMITTEE_MISMATCH',
    );
    expectVerifyError(
      () => verifyStateBlock(crypto, { ...stateBlock, committee: fakeHash('x') }, epoch1.prepared),
      'VERIFY_COMMITTEE_MISMATCH',
    );
  });

  it('refuses a bitmap of the wrong length or with padding bits set', () => {
    const { stateBlock } = makeStateBlock(epoch1);
    const long = {
      ...stateBlock,
      signature: { ...stateBlock.signature, signers: new Uint8Array(2).fill(0xff) },
    };
    expectVerifyError(() => verifyStateBlock(crypto, long, epoch1.prepared), 'VERIFY_BITMAP_MISMATCH');
    const padded = new Uint8Array(stateBlock.signature.signers);
    padded[0]! |= 0x01; // bit 7 of 4 members is padding
    const pad = { ...stateBlock, signature: { ...stateBlock.signature, signers: padded } };
    expectVerifyError(() => verifyStateBlock(crypto, pad, epoch1.prepared), 'VERIFY_BITMAP_MISMATCH');
  });
});

describe('verifyStateBlockLink', () => {
  const first = makeStateBlock(epoch1, { index: 0, fromHeight: 0, toHeight: 15 });
  const good = makeStateBlock(epoch1, { index: 1, fromHeight: 16, toHeight: 31, previous: first.id });

  it('accepts the successor', () => {
    expect(() => verifyStateBlockLink(first.stateBlock, first.id, good.stateBlock)).not.toThrow();
  });

  it.each([
    ['a skipped index', { index: 2 }],
    ['another previous', { previous: fakeHash('fork') }],
    ['a gap in heights', { fromHeight: 17 }],
    ['another committee than announced', { committee: fakeHash('someone') }],
  ])('refuses %s', (_name, change) => {
    const next = { ...good.stateBlock, ...change };
    expectVerifyError(() => verifyStateBlockLink(first.stateBlock, first.id, next), 'VERIFY_NOT_SUCCESSOR');
  });
});

describe('verifyCommitteeTransition', () => {
  const transition = makeStateBlock(epoch1, {
    nextCommittee: epoch2.hash,
    index: 15,
    fromHeight: 240,
    toHeight: 255,
  });

  it('accepts the next committee named by a state block of the current one, then its blocks', () => {
    const next = verifyCommitteeTransition(crypto, epoch1.prepared, transition.stateBlock, epoch2.committee);
    const after = makeStateBlock(epoch2, {
      index: 16,
      fromHeight: 256,
      toHeight: 271,
      previous: transition.id,
      committee: epoch2.hash,
      nextCommittee: epoch2.hash,
    });
    expect(verifyStateBlock(crypto, after.stateBlock, next)).toEqual(after.id);
    verifyStateBlockLink(transition.stateBlock, transition.id, after.stateBlock);
    // The old committee can no longer sign for the new epoch.
    const stale = makeStateBlock(epoch1, { epoch: 2, committee: epoch2.hash }, ALL_FOUR);
    expectVerifyError(() => verifyStateBlock(crypto, stale.stateBlock, next), 'VERIFY_BAD_SIGNATURE');
  });

  it('refuses a transition signed by anyone but the current committee', () => {
    const { stateBlock, id } = transition;
    const forged = { ...stateBlock, signature: signCollective(attacker, id, ALL_FOUR) };
    expectVerifyError(
      () => verifyCommitteeTransition(crypto, epoch1.prepared, forged, epoch2.committee),
      'VERIFY_BAD_SIGNATURE',
    );
    // Signed by the new committee itself ("I appoint myself"): it names epoch1 as signer but epoch2 signed.
    const selfAppointed = {
      ...stateBlock,
      signature: signCollective(epoch2, id, supermajoritySigners(epoch2)),
    };
    expectVerifyError(
      () => verifyCommitteeTransition(crypto, epoch1.prepared, selfAppointed, epoch2.committee),
      'VERIFY_BAD_SIGNATURE',
    );
  });

  it('refuses a committee other than the one signed for, or for a skipped epoch', () => {
    const otherNext = makeCommittee({ epoch: 2, weights: [35, 30, 25, 10], label: 'attacker' });
    expectVerifyError(
      () => verifyCommitteeTransition(crypto, epoch1.prepared, transition.stateBlock, otherNext.committee),
      'VERIFY_COMMITTEE_MISMATCH',
    );
    const epoch3 = makeCommittee({ epoch: 3, weights: [35, 30, 25, 10], label: 'n' });
    const skip = makeStateBlock(epoch1, { nextCommittee: epoch3.hash });
    expectVerifyError(
      () => verifyCommitteeTransition(crypto, epoch1.prepared, skip.stateBlock, epoch3.committee),
      'VERIFY_COMMITTEE_MISMATCH',
    );
  });
});

describe('verifyAccountProof', () => {
  const store = new MemorySmtStore();
  const tree = new SparseMerkleTree(store, crypto);
  const accounts = Array.from({ length: 200 }, (_, i) => ({
    address: addressOf(crypto, ed25519Key(`acct/${i}`).publicKey),
    state: {
      balance: BigInt(1000 + i),
      nonce: i,
      staked: 0n,
      unbonding: 0n,
      unbondingEpoch: 0,
      locked: 0n,
    } as AccountState,
  }));
  const put = (version: number, list: typeof accounts) => {
    const r = tree.applyBatch(
      version === 1 ? null : version - 1,
      version,
      list.map((a) => [
        stateKey(crypto, 'account', a.address),
        stateValueHash(crypto, encodeAccount(a.state)),
      ]),
    );
    store.commit(version, r);
    return r.root;
  };
  const root1 = put(1, accounts);
  const alice = accounts[7]!;
  const aliceRich = { ...alice, state: { ...alice.state, balance: 999_999n, nonce: alice.state.nonce + 1 } };
  const root2 = put(2, [aliceRich]);
  const proofOf = (version: number, address: Uint8Array, record: Uint8Array | null): StateProof => ({
    namespace: 'account',
    id: address,
    record,
    proof: tree.prove(version, stateKey(crypto, 'account', address)),
  });

  it('returns the proven account, and null for an absent one', () => {
    expect(
      verifyAccountProof(crypto, root1, alice.address, proofOf(1, alice.address, encodeAccount(alice.state))),
    ).toEqual(alice.state);
    const nobody = addressOf(crypto, ed25519Key('nobody').publicKey);
    expect(verifyAccountProof(crypto, root1, nobody, proofOf(1, nobody, null))).toBeNull();
  });

  it('refuses a gateway that lies about a balance', () => {
    const lie = encodeAccount({ ...alice.state, balance: 10n ** 15n });
    expectVerifyError(
      () => verifyAccountProof(crypto, root1, alice.address, proofOf(1, alice.address, lie)),
      'VERIFY_PROOF_INVALID',
    );
  });

  it('refuses a stale proof against the current root, and a proof of another account', () => {
    const stale = proofOf(1, alice.address, encodeAccount(alice.state));
    expectVerifyError(() => verifyAccountProof(crypto, root2, alice.address, stale), 'VERIFY_ROOT_MISMATCH');
    const bob = accounts[8]!;
    const bobs = proofOf(1, bob.address, encodeAccount(bob.state));
    expectVerifyError(() => verifyAccountProof(crypto, root1, alice.address, bobs), 'VERIFY_INVALID_FIELD');
  });

  it('refuses to show an existing account as absent (hiding it)', () => {
    const hidden = { ...proofOf(2, alice.address, encodeAccount(aliceRich.state)), record: null };
    expect(() => verifyAccountProof(crypto, root2, alice.address, hidden)).toThrow(VerifyError);
  });

  it('refuses a proof with a sibling flipped or dropped', () => {
    const good = proofOf(2, alice.address, encodeAccount(aliceRich.state));
    const flipped = new Uint8Array(good.proof.siblings);
    flipped[5]! ^= 1;
    expect(() =>
      verifyAccountProof(crypto, root2, alice.address, {
        ...good,
        proof: { ...good.proof, siblings: flipped },
      }),
    ).toThrow(VerifyError);
    const dropped = { ...good.proof, siblings: good.proof.siblings.subarray(32) };
    expect(() => verifyAccountProof(crypto, root2, alice.address, { ...good, proof: dropped })).toThrow(
      VerifyError,
    );
  });
});

describe('verifyTxInclusion', () => {
  const txs = Array.from({ length: 5 }, (_, i) => makeTx('transfer', { nonce: i }).tx);
  const { block, txIds } = makeBlock(epoch1, txs, { height: 42 });
  const inclusion = (index: number, withCert: boolean): TxInclusionProof => ({
    header: block.header,
    proof: merkleProof(crypto, txIds, index),
    certificate: withCert ? makeFinalityCertificate(epoch1, block.header) : null,
  });

  it('grades 1 with the proposer signature alone and 2 with a finality certificate', () => {
    expect(verifyTxInclusion(crypto, epoch1.prepared, txIds[3]!, inclusion(3, false)).grade).toBe(1);
    const g2 = verifyTxInclusion(crypto, epoch1.prepared, txIds[3]!, inclusion(3, true));
    expect(g2.grade).toBe(2);
    expect(g2.height).toBe(42);
  });

  it('refuses a proof for another transaction (a hidden transaction cannot be shown as included)', () => {
    const other = makeTx('transfer', { nonce: 99 });
    expectVerifyError(
      () => verifyTxInclusion(crypto, epoch1.prepared, other.id, inclusion(3, true)),
      'VERIFY_ROOT_MISMATCH',
    );
  });

  it('refuses a header from a proposer outside the league, or with a bad signature', () => {
    const nonLeague = [...epoch1.committee.members.keys()].find((i) => !epoch1.prepared.league.has(i))!;
    const { header } = makeHeader(epoch1, {
      proposer: nonLeague,
      txRoot: block.header.txRoot,
      txCount: 5,
      height: 42,
    });
    expectVerifyError(
      () => verifyTxInclusion(crypto, epoch1.prepared, txIds[0]!, { ...inclusion(0, false), header }),
      'VERIFY_BAD_SIGNATURE',
    );
    const badSig = {
      ...block.header,
      proposerSignature: makeHeader(epoch1, { height: 43 }).header.proposerSignature,
    };
    expectVerifyError(
      () => verifyTxInclusion(crypto, epoch1.prepared, txIds[0]!, { ...inclusion(0, false), header: badSig }),
      'VERIFY_BAD_SIGNATURE',
    );
  });

  it('refuses an under-signed certificate or one for another block', () => {
    const weak = makeFinalityCertificate(epoch1, block.header, [3]);
    expectVerifyError(
      () =>
        verifyTxInclusion(crypto, epoch1.prepared, txIds[1]!, { ...inclusion(1, false), certificate: weak }),
      'VERIFY_INSUFFICIENT_WEIGHT',
    );
    const { header: otherHeader } = makeHeader(epoch1, { height: 43 });
    const elsewhere = makeFinalityCertificate(epoch1, otherHeader);
    expectVerifyError(
      () =>
        verifyTxInclusion(crypto, epoch1.prepared, txIds[1]!, {
          ...inclusion(1, false),
          certificate: elsewhere,
        }),
      'VERIFY_INVALID_FIELD',
    );
  });

  it('refuses a proof whose leaf count differs from the header', () => {
    const p = inclusion(1, false);
    expectVerifyError(
      () => verifyTxInclusion(crypto, epoch1.prepared, txIds[1]!, { ...p, proof: { ...p.proof, count: 6 } }),
      'VERIFY_PROOF_INVALID',
    );
  });

  it('a committee verifies only its own epoch', () => {
    expectVerifyError(
      () => verifyTxInclusion(crypto, epoch2.prepared, txIds[0]!, inclusion(0, true)),
      'VERIFY_COMMITTEE_MISMATCH',
    );
  });
});

describe('signer bitmaps', () => {
  it('round trip and reject out-of-range indexes', () => {
    expect(makeBitmap(9, [0, 8])).toEqual(Uint8Array.of(0x80, 0x80));
    expect(() => makeBitmap(4, [4])).toThrow(RangeError);
  });
});
