/** The devnet's view of its devices: events folded into a view, the screen's device table, the anchor. */
import { describe, expect, it } from 'vitest';
import { decodeAnchor } from '../../../../device/anchor.js';
import { genesisCommittee } from '../../../../gateway/consensus/hooks.js';
import { createNativeCrypto } from '../../../../gateway/crypto/native.js';
import { applyDeviceEvent, genesisAnchorBytes, newDeviceView } from '../../../../gateway/devnet/devices.js';
import { deviceLines } from '../../../../gateway/devnet/screen.js';
import { makeGenesis } from '../../../helpers/genesis.js';

const crypto = createNativeCrypto();

const emptyView = () => newDeviceView('device-1', 42);

describe('devnet devices', () => {
  it('folds `iosnet device run` events into the view the screen shows', () => {
    const v = emptyView();
    applyDeviceEvent(v, { event: 'boot', identityHash: 'ab'.repeat(32) });
    applyDeviceEvent(v, { event: 'status', status: 'up' });
    applyDeviceEvent(v, { event: 'stateBlock', index: 3, epoch: 0 });
    applyDeviceEvent(v, { event: 'synced', stateBlockIndex: 3, registered: true, balance: '1000000' });
    applyDeviceEvent(v, {
      event: 'tx',
      kind: 'transfer',
      grade: 2,
      ms: 812,
      balance: '999999',
      stateBlockIndex: 5,
    });
    applyDeviceEvent(v, { event: 'stateBlock', index: 4, epoch: 0 }); // late: the head does not go back
    applyDeviceEvent(v, { event: 'txError', code: 'DEVICE_TIMEOUT', message: 'no answer' });
    applyDeviceEvent(v, { event: 'not json of ours' });
    expect(v).toMatchObject({
      identityHash: 'ab'.repeat(32),
      connected: true,
      registered: true,
      stateBlockIndex: 5,
      balance: 999_999n,
      txs: 1,
      txErrors: 1,
      lastTx: { grade: 2, ms: 812, kind: 'transfer' },
    });
    const lines = deviceLines([v]);
    expect(lines[1]).toContain('abab');
    expect(lines[1]).toContain('999999');
    expect(lines[1]).toContain('grade 2 in 812ms');
    expect(lines[1]).toContain('DEVICE_TIMEOUT');
  });

  it('writes the genesis trust anchor the device decodes: genesis hash + first committee', () => {
    const genesis = makeGenesis();
    const anchor = decodeAnchor(crypto, genesisAnchorBytes(crypto, genesis));
    expect(anchor.kind).toBe('genesis');
    expect(anchor.committee).toEqual(genesisCommittee(crypto, genesis));
  });
});
