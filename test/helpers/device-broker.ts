/**
 * A real MQTT broker (aedes, in-process, random TCP port) for light-client tests: it checks the device's
 * auth token (signature, expiry, single use) and lets a FakeGateway answer the device's request topic.
 * The gateway's own bridge (gateway/mqtt/) is tested on its own; this keeps device tests independent of it.
 */
import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import { toHex } from '../../core/bytes.js';
import { deviceAuthMessage, deviceTopics, parseAuthTokenPassword } from '../../core/device-protocol.js';
import type { DeviceKeyStore } from '../../device/keystore.js';
import { TEST_CHAIN_ID } from './chain.js';
import { testCrypto as crypto } from './crypto.js';
import type { FakeGateway } from './device-gateway.js';

export interface TestBroker {
  readonly port: number;
  readonly passwords: string[];
  readonly refused: string[];
  close(): Promise<void>;
}

/** aedes with a token check (signature, expiry, single use) and a gateway answering requests in-process. */
export async function startDeviceBroker(
  gateway: FakeGateway,
  keyStore: Pick<DeviceKeyStore, 'identityHash' | 'publicKey'>,
  port = 0,
  usedNonces = new Set<string>(),
): Promise<TestBroker> {
  const deviceHex = toHex(keyStore.identityHash);
  const topics = deviceTopics(TEST_CHAIN_ID, 0, keyStore.identityHash);
  const passwords: string[] = [];
  const refused: string[] = [];
  const broker = await Aedes.createBroker({
    authenticate(_client, username, password, done) {
      const pw = password?.toString() ?? '';
      passwords.push(pw);
      try {
        const t = parseAuthTokenPassword(pw);
        const ok =
          username === deviceHex &&
          t.expiry > Date.now() &&
          !usedNonces.has(toHex(t.nonce)) &&
          crypto.ed25519.verify(t.signature, deviceAuthMessage(crypto, t), keyStore.publicKey);
        if (!ok) throw new Error('bad token');
        usedNonces.add(toHex(t.nonce));
        done(null, true);
      } catch {
        refused.push(pw);
        done(Object.assign(new Error('not authorized'), { returnCode: 5 as const }), false);
      }
    },
  });
  broker.subscribe(
    topics.request,
    (packet, cb) => {
      const answer = gateway.handle(new Uint8Array(packet.payload as Buffer));
      if (answer) {
        broker.publish(
          {
            cmd: 'publish',
            topic: topics.response,
            payload: Buffer.from(answer),
            qos: 0,
            retain: false,
            dup: false,
          },
          () => {},
        );
      }
      cb();
    },
    () => {},
  );
  const server: Server = createServer(broker.handle);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    passwords,
    refused,
    async close() {
      for (const c of Object.values(
        (broker as unknown as { clients: Record<string, { conn: { destroy(): void } }> }).clients,
      ))
        c.conn.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}
