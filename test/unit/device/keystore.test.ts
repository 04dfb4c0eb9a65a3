/** device/keystore.ts: first boot key generation, file mode 0600, refusal of readable or damaged key files. */
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { equalBytes } from '../../../core/bytes.js';
import { addressOf, deviceIdentityHash } from '../../../core/identity.js';
import { DeviceError } from '../../../device/errors.js';
import { createMemoryKeyStore, openFileKeyStore } from '../../../device/keystore.js';
import { createTestCrypto } from '../../helpers/crypto.js';

const crypto = createTestCrypto('keystore');
const dir = mkdtempSync(join(tmpdir(), 'iosnet-keystore-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const opts = { crypto, boardId: 'rpi4', hardwareSerial: 'SN-42' };

describe('device key store', () => {
  it('generates the key on first boot, mode 0600, and loads the same key after', () => {
    const path = join(dir, 'a', 'device.key');
    const first = openFileKeyStore({ ...opts, path });
    expect(first.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'a')).mode & 0o777).toBe(0o700);
    const again = openFileKeyStore({ ...opts, path });
    expect(again.created).toBe(false);
    expect(equalBytes(again.keyStore.publicKey, first.keyStore.publicKey)).toBe(true);
    const ks = again.keyStore;
    expect(equalBytes(ks.identityHash, deviceIdentityHash(crypto, 'rpi4', ks.publicKey, 'SN-42'))).toBe(true);
    expect(equalBytes(ks.address, addressOf(crypto, ks.publicKey))).toBe(true);
    const msg = new Uint8Array([1, 2, 3]);
    expect(crypto.ed25519.verify(ks.sign(msg), msg, ks.publicKey)).toBe(true);
  });

  it('never exposes the secret: only the public key, identity and signatures', () => {
    const ks = openFileKeyStore({ ...opts, path: join(dir, 'b.key') }).keyStore;
    const secret = readFileSync(join(dir, 'b.key')).subarray(-32);
    const seen = JSON.stringify(
      Object.entries(ks).map(([k, v]) => [k, v instanceof Uint8Array ? [...v] : String(v)]),
    );
    expect(seen.includes([...secret].join(','))).toBe(false);
    expect(Object.isFrozen(ks)).toBe(true);
  });

  it('refuses a key file that others can read', () => {
    const path = join(dir, 'c.key');
    openFileKeyStore({ ...opts, path });
    chmodSync(path, 0o644);
    expect(() => openFileKeyStore({ ...opts, path })).toThrow(
      expect.objectContaining({ code: 'DEVICE_KEY_PERMISSIONS' }),
    );
  });

  it('refuses a damaged key file', () => {
    const path = join(dir, 'd.key');
    writeFileSync(path, new Uint8Array([0x82, 0x01, 0x41, 0x00]), { mode: 0o600 });
    try {
      openFileKeyStore({ ...opts, path });
      throw new Error('no error');
    } catch (err) {
      expect(err).toBeInstanceOf(DeviceError);
      expect((err as DeviceError).code).toBe('DEVICE_KEY_CORRUPT');
    }
  });

  it('memory key stores derive the same identity as file ones from the same seed', () => {
    const seed = new Uint8Array(32).fill(4);
    const a = createMemoryKeyStore({ ...opts, seed });
    expect(equalBytes(a.identityHash, deviceIdentityHash(crypto, 'rpi4', a.publicKey, 'SN-42'))).toBe(true);
  });
});
