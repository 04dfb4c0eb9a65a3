/** Key files (gateway/cli/keyfile.ts) in process: the strict reader must refuse any tampered file. */

import { randomFillSync } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { toHex } from '../../../core/bytes.js';
import { createPortableCrypto } from '../../../core/crypto-portable.js';
import { IosnetError } from '../../../core/errors.js';
import { blsPopMessage } from '../../../core/identity.js';
import { toJson } from '../../../gateway/cli/json.js';
import {
  encodeKeyFile,
  generateBlsSecretKey,
  generateKeyFile,
  type KeyFile,
  readKeyFile,
  writeKeyFile,
} from '../../../gateway/keys/keyfile.js';

const crypto = createPortableCrypto((n) => randomFillSync(new Uint8Array(n)));
let dir: string;
let validator: KeyFile;
let plain: KeyFile;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'iosnet-keyfile-'));
  validator = generateKeyFile(crypto, { validator: true });
  plain = generateKeyFile(crypto, { validator: false });
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The JSON form of a key file, loose enough to break it in every way a test wants. */
interface KeyFileJson {
  type: string;
  version: number;
  address?: string;
  comment?: string;
  ed25519: { secretKey: string; publicKey: string };
  bls: { secretKey: string; publicKey: string; pop: string };
}

let n = 0;
/** Writes the key file JSON after `edit`, mode 0600, and returns its path. */
function writeEdited(key: KeyFile, edit: (json: KeyFileJson) => void): string {
  const json = JSON.parse(encodeKeyFile(key)) as KeyFileJson;
  edit(json);
  const path = join(dir, `edited-${n++}.json`);
  writeFileSync(path, JSON.stringify(json), { mode: 0o600 });
  return path;
}

function expectInvalid(path: string, message: RegExp): void {
  let error: unknown;
  try {
    readKeyFile(path, crypto);
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(IosnetError);
  expect((error as IosnetError).code).toBe('KEYFILE_INVALID');
  expect((error as IosnetError).message).toMatch(message);
}

describe('key files', () => {
  test('round trip, 0600, no warning', () => {
    const path = join(dir, 'v.json');
    writeKeyFile(path, validator, { force: false });
    const { key, warning } = readKeyFile(path, crypto);
    expect(warning).toBeUndefined();
    expect(key).toEqual(validator);
    const pop = crypto.bls.verify(
      key.bls!.pop,
      blsPopMessage(crypto, key.bls!.publicKey),
      crypto.bls.parsePublicKey(key.bls!.publicKey)!,
    );
    expect(pop).toBe(true);
    expect(() => writeKeyFile(path, plain, { force: false })).toThrow(/already exists/);
    writeKeyFile(path, plain, { force: true });
    expect(readKeyFile(path, crypto).key).toEqual(plain);
  });

  test('rejects tampered files with KEYFILE_INVALID', () => {
    const other = generateKeyFile(crypto, { validator: true });
    expectInvalid(
      writeEdited(validator, (j) => {
        j.ed25519.publicKey = toHex(other.ed25519.publicKey);
      }),
      /ed25519.publicKey does not match/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.address = toHex(other.address);
      }),
      /address does not match/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.bls.publicKey = toHex(other.bls!.publicKey);
      }),
      /bls.publicKey does not match/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.bls.pop = toHex(other.bls!.pop);
      }),
      /bls.pop does not verify/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.ed25519.secretKey = `${j.ed25519.secretKey.slice(0, -2)}zz`;
      }),
      /ed25519.secretKey must be 64 lowercase hex digits/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.ed25519.secretKey = j.ed25519.secretKey.toUpperCase();
      }),
      /lowercase hex/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.type = 'ethereum-key';
      }),
      /type must be "iosnet-key"/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.version = 2;
      }),
      /unsupported version 2/,
    );
    expectInvalid(
      writeEdited(plain, (j) => {
        j.comment = 'hello';
      }),
      /unknown field comment/,
    );
    expectInvalid(
      writeEdited(plain, (j) => {
        delete j.address;
      }),
      /missing field address/,
    );
    expectInvalid(
      writeEdited(validator, (j) => {
        j.bls.secretKey = 'ff'.repeat(32); // above the group order r
      }),
      /not a valid scalar/,
    );
    const notJson = join(dir, 'not-json');
    writeFileSync(notJson, '{"type": ', { mode: 0o600 });
    expectInvalid(notJson, /not JSON/);
  });

  test('warns when group or others can read the file; KEYFILE_UNREADABLE when missing', () => {
    const path = join(dir, 'open.json');
    writeKeyFile(path, plain, { force: false });
    chmodSync(path, 0o644);
    const { warning } = readKeyFile(path, crypto);
    expect(warning).toMatch(/mode 0644.*chmod 600/);
    expect(() => readKeyFile(join(dir, 'missing.json'), crypto)).toThrow(
      expect.objectContaining({ code: 'KEYFILE_UNREADABLE' }),
    );
    expect(readFileSync(path, 'utf8')).not.toContain('\r');
  });

  test('BLS secret keys are valid, distinct scalars', () => {
    const keys = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const sk = generateBlsSecretKey(crypto);
      expect(sk[0]! & 0x80).toBe(0);
      expect(crypto.bls.getPublicKey(sk)).toHaveLength(48);
      keys.add(toHex(sk));
    }
    expect(keys.size).toBe(16);
  });
});

describe('toJson', () => {
  test('bytes to lowercase hex, bigints to decimal strings, recursively', () => {
    expect(
      toJson({
        a: Uint8Array.of(0xab, 0x01),
        b: [1n << 70n, { c: 'x', d: undefined, e: null }],
        f: new Set([2]),
      }),
    ).toEqual({ a: 'ab01', b: ['1180591620717411303424', { c: 'x', e: null }], f: [2] });
  });
});
