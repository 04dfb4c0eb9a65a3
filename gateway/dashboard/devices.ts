/**
 * Devices for the dashboard: the registered ones (from the state, cached per final height because listing
 * them is a scan of the state tree) and what the MQTT bridge saw of them (last request time and how far
 * the device has synced its state blocks). Pages are bounded so a fleet of thousands costs one page's JSON.
 */
import { toHex } from '../../core/bytes.js';
import type { Crypto } from '../../core/crypto.js';
import { decodeDeviceRequest } from '../../core/device-protocol.js';
import { deviceIdentityHash } from '../../core/identity.js';
import type { DeviceRecord } from '../../core/state.js';
import type { ChainState } from '../state/interface.js';

export interface DeviceSighting {
  /** Unix ms of the device's last request over MQTT. */
  readonly lastSeen: number;
  /** The state block index the device last asked to sync from (getStateBlocks), if it ever asked. */
  readonly syncFromIndex: number | null;
}

/**
 * What the MQTT bridge saw of each device: an LRU bounded by `capacity` (a device that stops talking is
 * eventually forgotten; its "last seen" is then unknown, which is what it is).
 */
export class DeviceSightings {
  private readonly map = new Map<string, DeviceSighting>();

  constructor(private readonly capacity = 100_000) {}

  /** A request of an authenticated device (identity hash hex) reached the bridge. */
  seen(deviceHex: string, payload: Uint8Array, now: number): void {
    const before = this.map.get(deviceHex);
    let syncFromIndex = before?.syncFromIndex ?? null;
    try {
      // Requests are small (≤ 4 KiB) and rate-limited per device: decoding twice is cheap.
      const request = decodeDeviceRequest(payload);
      if (request.kind === 'getStateBlocks') syncFromIndex = request.fromIndex;
    } catch {
      // A malformed request still shows the device is alive.
    }
    this.map.delete(deviceHex);
    this.map.set(deviceHex, { lastSeen: now, syncFromIndex });
    if (this.map.size > this.capacity) this.map.delete(this.map.keys().next().value!);
  }

  get(deviceHex: string): DeviceSighting | undefined {
    return this.map.get(deviceHex);
  }

  /** Devices seen at or after `since` (Unix ms). */
  activeSince(since: number): number {
    let n = 0;
    for (const s of this.map.values()) if (s.lastSeen >= since) n++;
    return n;
  }
}

export interface DeviceRow {
  readonly identityHash: string;
  readonly owner: string;
  readonly boardId: string;
  readonly hardwareSerial: string;
  readonly registeredHeight: number;
  readonly lastSeen: number | null;
  /** 'synced' | 'syncing from N' | 'unknown' (never asked for state blocks here). */
  readonly sync: string;
}

export interface DevicePage {
  readonly height: number;
  readonly total: number;
  readonly offset: number;
  readonly limit: number;
  readonly devices: readonly DeviceRow[];
}

interface Listed {
  readonly identityHash: string;
  readonly record: DeviceRecord;
}

/**
 * The registered devices, newest registration first. Listing them walks every leaf of the state tree, so
 * the list is re-read only when the final height moved AND `rescanMs` passed since the last walk: with
 * blocks every 0.5 s and a large state, a walk per block would cost the validator more than the page is
 * worth; a device list up to a few seconds old is fine for people.
 */
export class DeviceDirectory {
  private cachedHeight = -1;
  private scannedAt = Number.NEGATIVE_INFINITY;
  private cached: Listed[] = [];

  constructor(
    private readonly deps: {
      readonly crypto: Crypto;
      readonly state: ChainState;
      readonly sightings?: DeviceSightings;
      readonly latestStateBlock: () => number | null;
      /** Least time between two walks of the state (default 3 s). */
      readonly rescanMs?: number;
      readonly now?: () => number;
    },
  ) {}

  private list(): Listed[] {
    const { state, crypto } = this.deps;
    const now = (this.deps.now ?? Date.now)();
    if (state.height === this.cachedHeight) return this.cached;
    if (now - this.scannedAt < (this.deps.rescanMs ?? 3000)) return this.cached;
    this.scannedAt = now;
    const out: Listed[] = [];
    for (const record of state.devices?.() ?? []) {
      const id = deviceIdentityHash(crypto, record.boardId, record.devicePublicKey, record.hardwareSerial);
      out.push({ identityHash: toHex(id), record });
    }
    out.sort(
      (a, b) =>
        b.record.registeredHeight - a.record.registeredHeight || a.identityHash.localeCompare(b.identityHash),
    );
    this.cached = out;
    this.cachedHeight = state.height;
    return out;
  }

  get total(): number {
    return this.list().length;
  }

  page(offset: number, limit: number): DevicePage {
    const all = this.list();
    const latest = this.deps.latestStateBlock();
    const devices = all.slice(offset, offset + limit).map(({ identityHash, record }): DeviceRow => {
      const seen = this.deps.sightings?.get(identityHash);
      let sync = 'unknown';
      if (seen?.syncFromIndex != null) {
        sync =
          latest !== null && seen.syncFromIndex >= latest ? 'synced' : `syncing from ${seen.syncFromIndex}`;
      }
      return {
        identityHash,
        owner: toHex(record.owner),
        boardId: record.boardId,
        hardwareSerial: record.hardwareSerial,
        registeredHeight: record.registeredHeight,
        lastSeen: seen?.lastSeen ?? null,
        sync,
      };
    });
    return { height: this.deps.state.height, total: all.length, offset, limit, devices };
  }
}
