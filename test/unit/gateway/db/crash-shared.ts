import { type Committee, committeeHash } from '../../../../core/committee.js';
import { type StateBlock, stateBlockIdOf, ZERO_HASH } from '../../../../core/state-block.js';
import { TEST_CHAIN_ID } from '../../../helpers/chain.js';
import { blsKey } from '../../../helpers/keys.js';
import { crypto, STATE_PARAMS } from '../state/helpers.js';

export const INTERVAL = STATE_PARAMS.stateBlockInterval;

export const crashCommittee: Committee = {
  chainId: TEST_CHAIN_ID,
  shard: 0,
  epoch: 0,
  leagueSize: 1,
  members: [{ blsPublicKey: blsKey('crash/c0').publicKey, weight: 1 }],
};

export function crashStateBlock(
  previous: StateBlock | undefined,
  toHeight: number,
  root: Uint8Array,
): StateBlock {
  const hash = committeeHash(crypto, crashCommittee);
  return {
    chainId: TEST_CHAIN_ID,
    shard: 0,
    epoch: 0,
    index: toHeight / INTERVAL - 1,
    fromHeight: toHeight - INTERVAL + 1,
    toHeight,
    stateRoot: root,
    previous: previous ? stateBlockIdOf(crypto, previous) : ZERO_HASH,
    committee: hash,
    nextCommittee: hash,
    signature: { signers: Uint8Array.of(0x80), signature: new Uint8Array(96) },
  };
}
