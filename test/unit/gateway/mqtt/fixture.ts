/**
 * A real one-validator gateway with its MQTT bridge (startGatewayNode on a temp dir, every port free), plus
 * devices registered on chain by real register-device transactions, and real mqtt.js clients.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { toHex } from '../../../../core/bytes.js';
import {
  authTokenPassword,
  type DeviceResponse,
  decodeDeviceResponse,
  deviceTopics,
  signDeviceAuthToken,
} from '../../../../core/device-protocol.js';
import { deviceIdentityHash } from '../../../../core/identity.js';
import { encodeTx, signTx } from '../../../../core/tx.js';
import { admitTx } from '../../../../gateway/api/queries.js';
import { createDevnetFiles, type DevnetFiles } from '../../../../gateway/devnet/files.js';
import { generateKeyFile, type KeyFile, readKeyFile } from '../../../../gateway/keys/keyfile.js';
import { silentLogger } from '../../../../gateway/log/logger.js';
import type { MqttBridgeOptions } from '../../../../gateway/mqtt/options.js';
import type { GatewayConfig } from '../../../../gateway/node/config.js';
import { type GatewayNode, loadGatewayConfig, startGatewayNode } from '../../../../gateway/node/node.js';
import { crypto, waitFor } from '../api/fixture.js';

export { crypto, waitFor };

export interface TestDevice {
  readonly key: KeyFile;
  readonly serial: string;
  readonly id: Uint8Array;
  readonly hex: string;
  readonly topics: ReturnType<typeof deviceTopics>;
}

export interface MqttFixture {
  readonly dir: string;
  readonly files: DevnetFiles;
  readonly node: GatewayNode;
  readonly chainId: string;
  /** The funded private-sale key: owner of the registered devices. */
  readonly funder: KeyFile;
  /** Token audience: the gateway's node public key hex. */
  readonly audience: string;
  close(): Promise<void>;
}

export async function startMqttFixture(
  mqttConfig: GatewayConfig['mqtt'],
  options: Partial<MqttBridgeOptions> = {},
): Promise<MqttFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'iosnet-mqtt-'));
  const files = await createDevnetFiles(crypto, dir, { validators: 1, consensus: { blockIntervalMs: 100 } });
  const config = { ...loadGatewayConfig(files.nodes[0]!.configPath), mqtt: mqttConfig };
  const node = await startGatewayNode(config, {
    log: silentLogger(),
    metrics: { defaultMetrics: false },
    mqtt: options,
  });
  const validator = readKeyFile(files.nodes[0]!.keyPath, crypto).key;
  return {
    dir,
    files,
    node,
    chainId: files.genesis.chainId,
    funder: readKeyFile(files.bucketKeys.privateSale, crypto).key,
    audience: toHex(validator.ed25519.publicKey),
    async close() {
      await node.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A new device key and identity (not registered). */
export function makeDevice(f: MqttFixture, serial: string): TestDevice {
  const key = generateKeyFile(crypto, { validator: false });
  const id = deviceIdentityHash(crypto, 'rpi4', key.ed25519.publicKey, serial);
  return { key, serial, id, hex: toHex(id), topics: deviceTopics(f.chainId, 0, id) };
}

/** Registers devices on chain (register-device signed by the funder and each device) and waits for a state
 * block that covers the registrations, so proofs of them are under a signed root. */
export async function registerDevices(f: MqttFixture, devices: readonly TestDevice[]): Promise<void> {
  const start = f.node.state.getAccount(f.funder.address).nonce;
  devices.forEach((d, i) => {
    const { tx } = signTx(
      crypto,
      {
        chainId: f.chainId,
        sender: f.funder.ed25519.publicKey,
        nonce: start + i,
        expiry: Date.now() + 60_000,
        fee: 0n,
        payload: {
          kind: 'registerDevice',
          devicePublicKey: d.key.ed25519.publicKey,
          boardId: 'rpi4',
          hardwareSerial: d.serial,
        },
      },
      [f.funder.ed25519.secretKey, d.key.ed25519.secretKey],
    );
    admitTx(f.node, encodeTx(tx));
  });
  const height = await waitFor(() =>
    devices.every((d) => f.node.state.getDevice(d.id)) ? f.node.state.height : undefined,
  );
  await waitFor(() => ((f.node.store.latestStateBlock()?.toHeight ?? -1) >= height ? true : undefined));
}

export function tokenFor(
  f: MqttFixture,
  d: TestDevice,
  opts: { now?: number; lifetimeMs?: number; audience?: string } = {},
): string {
  const token = signDeviceAuthToken(
    crypto,
    {
      chainId: f.chainId,
      deviceId: d.id,
      audience: opts.audience ?? f.audience,
      now: opts.now ?? Date.now(),
      lifetimeMs: opts.lifetimeMs ?? 60_000,
    },
    d.key.ed25519.secretKey,
  );
  return authTokenPassword(token);
}

/** Connects as a device; rejects with the broker's refusal (mqtt.js ErrorWithReasonCode, code 5). */
export async function connectDevice(
  url: string,
  d: TestDevice,
  password: string,
  clientId = d.hex,
): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    username: d.hex,
    password,
    clientId,
    reconnectPeriod: 0,
    connectTimeout: 5_000,
  });
}

/** Collects a device's responses by request id. */
export class ResponseInbox {
  private readonly waiting = new Map<number, (r: DeviceResponse) => void>();
  readonly received: DeviceResponse[] = [];
  readonly undecodable: Uint8Array[] = [];

  constructor(client: MqttClient, topic: string) {
    client.on('message', (t, payload) => {
      if (t !== topic) return;
      let r: DeviceResponse;
      try {
        r = decodeDeviceResponse(new Uint8Array(payload));
      } catch {
        this.undecodable.push(new Uint8Array(payload));
        return;
      }
      this.received.push(r);
      const w = this.waiting.get(r.requestId);
      if (w) {
        this.waiting.delete(r.requestId);
        w(r);
      }
    });
  }

  next(requestId: number, ms = 5_000): Promise<DeviceResponse> {
    const got = this.received.find((r) => r.requestId === requestId);
    if (got) return Promise.resolve(got);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to request ${requestId}`)), ms);
      this.waiting.set(requestId, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
    });
  }
}
