/**
 * The dashboard's device directory over a fake state of 5,000 registered devices: pages are bounded and
 * ordered newest first, the state is walked at most once per final height and per rescan interval, and what the MQTT bridge
 * saw of a device (last request, state-block sync) shows in its row.
 */
import { describe, expect, test } from 'vitest';
import { toHex } from '../../../../core/bytes.js';
import { encodeDeviceRequest } from '../../../../core/device-protocol.js';
import { deviceIdentityHash } from '../../../../core/identity.js';
import type { DeviceRecord } from '../../../../core/state.js';
import { DeviceDirectory, DeviceSightings } from '../../../../gateway/dashboard/devices.js';
import type { ChainState } from '../../../../gateway/state/interface.js';
import { crypto } from '../../../helpers/gateways.js';

const N = 5000;

function fleet(n: number): DeviceRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const devicePublicKey = new Uint8Array(32);
    new DataView(devicePublicKey.buffer).setUint32(0, i + 1);
    return {
      owner: new Uint8Array(32).fill(9),
      devicePublicKey,
      boardId: i % 2 ? 'rpi4' : 'pi-zero-2w',
      hardwareSerial: `sn-${i}`,
      registeredHeight: 1 + Math.floor(i / 10),
    };
  });
}

function fakeState(records: DeviceRecord[]) {
  const s = { height: 100, scans: 0 };
  const state = {
    get height() {
      return s.height;
    },
    *devices() {
      s.scans++;
      yield* records;
    },
  } as unknown as ChainState;
  return { s, state };
}

describe('DeviceDirectory', () => {
  test('5,000 devices: bounded pages, newest first, one scan per final height', () => {
    const records = fleet(N);
    const { s, state } = fakeState(records);
    let now = 0;
    const dir = new DeviceDirectory({
      crypto,
      state,
      latestStateBlock: () => 12,
      rescanMs: 3000,
      now: () => now,
    });
    const t0 = performance.now();
    const first = dir.page(0, 50);
    const firstMs = performance.now() - t0;
    expect(first.total).toBe(N);
    expect(first.devices).toHaveLength(50);
    expect(first.devices[0]!.registeredHeight).toBe(1 + Math.floor((N - 1) / 10));
    const t1 = performance.now();
    for (let off = 0; off < N; off += 50) dir.page(off, 50);
    const allPagesMs = performance.now() - t1;
    expect(s.scans).toBe(1);
    // Generous bounds (a shared 2-core machine): the scan with 5,000 identity hashes, then cached pages.
    expect(firstMs).toBeLessThan(2000);
    expect(allPagesMs).toBeLessThan(500);
    const last = dir.page(N - 10, 50);
    expect(last.devices).toHaveLength(10);
    expect(last.devices.at(-1)!.registeredHeight).toBe(1);
    // A new height within rescanMs: the list is reused; after it, the state is walked again.
    s.height++;
    now += 1000;
    dir.page(0, 1);
    expect(s.scans).toBe(1);
    now += 2000;
    dir.page(0, 1);
    expect(s.scans).toBe(2);
    const r = records[0]!;
    const id = toHex(deviceIdentityHash(crypto, r.boardId, r.devicePublicKey, r.hardwareSerial));
    expect(last.devices.map((d) => d.identityHash)).toContain(id);
  });

  test('a device seen by the bridge shows its last request and how far it synced', () => {
    const records = fleet(2);
    const { state } = fakeState(records);
    const sightings = new DeviceSightings();
    const dir = new DeviceDirectory({ crypto, state, sightings, latestStateBlock: () => 12, rescanMs: 0 });
    const ids = records.map((r) =>
      toHex(deviceIdentityHash(crypto, r.boardId, r.devicePublicKey, r.hardwareSerial)),
    );
    const ask = (fromIndex: number) =>
      encodeDeviceRequest({ kind: 'getStateBlocks', requestId: 1, fromIndex, limit: 8, sparse: true });
    sightings.seen(ids[0]!, ask(3), 1_000);
    sightings.seen(ids[1]!, ask(12), 2_000);
    sightings.seen(ids[1]!, new Uint8Array([1, 2, 3]), 3_000);
    const rows = new Map(dir.page(0, 10).devices.map((d) => [d.identityHash, d]));
    expect(rows.get(ids[0]!)).toEqual(expect.objectContaining({ lastSeen: 1_000, sync: 'syncing from 3' }));
    // A malformed request still counts as "seen"; the sync progress stays what it was.
    expect(rows.get(ids[1]!)).toEqual(expect.objectContaining({ lastSeen: 3_000, sync: 'synced' }));
    expect(sightings.activeSince(2_000)).toBe(1);
  });

  test('sightings are bounded (LRU)', () => {
    const sightings = new DeviceSightings(2);
    sightings.seen('a', new Uint8Array(), 1);
    sightings.seen('b', new Uint8Array(), 2);
    sightings.seen('a', new Uint8Array(), 3);
    sightings.seen('c', new Uint8Array(), 4);
    expect(sightings.get('b')).toBeUndefined();
    expect(sightings.get('a')?.lastSeen).toBe(3);
  });
});
