/**
 * The emulated board's redundant boot environment (boards/emulator/boot-env.ts): records alternate, a
 * power-on reads the newest whole one, a torn or corrupted newest record falls back to the one before, a
 * flash with neither whole is refused with a typed error, and a bootenv.json from before moves over once.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BOOT_ENV_FILE,
  BootEnvError,
  BootEnvFile,
  decodeRecord,
  encodeRecord,
  newestRecord,
  RECORD_BYTES,
  readBootEnvBody,
} from '../../../boards/emulator/boot-env.js';
import { FlashStore } from '../../../boards/emulator/flash-store.js';
import { tempDirs } from '../../helpers/tmp.js';

const newDir = tempDirs('iosnet-bootenv-');

const provision = { boardId: 'emu-x64', releaseKey: 'ab'.repeat(32), hardwareSerial: 'SN-1' };

describe('boot environment records', () => {
  it('alternate between the two records; a power-on reads the newest', () => {
    const dir = newDir();
    const path = join(dir, BOOT_ENV_FILE);
    const f = BootEnvFile.create(path, '{"n":0}');
    for (let n = 1; n <= 5; n++) {
      f.write(`{"n":${n}}`);
      const bytes = new Uint8Array(readFileSync(path));
      expect(bytes.length).toBe(2 * RECORD_BYTES);
      const newest = newestRecord(bytes)!;
      expect(newest.body).toBe(`{"n":${n}}`);
      // The other record still holds the state before this write.
      expect(decodeRecord(bytes, newest.index === 0 ? 1 : 0)!.body).toBe(`{"n":${n - 1}}`);
    }
    f.close();
    expect(BootEnvFile.open(path).body).toBe('{"n":5}');
    expect(readBootEnvBody(dir)).toBe('{"n":5}');
  });

  it('falls back to the previous record when the newest is torn or corrupted', () => {
    const dir = newDir();
    const path = join(dir, BOOT_ENV_FILE);
    const f = BootEnvFile.create(path, '{"n":0}');
    f.write('{"n":1,"long":"'.concat('x'.repeat(2000), '"}'));
    f.close();
    const good = new Uint8Array(readFileSync(path));
    const newest = newestRecord(good)!;
    const at = newest.index * RECORD_BYTES;
    // A write cut short: only its first 512 bytes reached flash, over the old record's tail.
    const torn = good.slice();
    torn.set(encodeRecord(1, '{"n":0}').subarray(512), at + 512);
    // One flipped bit in the body.
    const flipped = good.slice();
    flipped[at + 100]! ^= 0x04;
    for (const bad of [torn, flipped]) {
      writeFileSync(path, bad);
      expect(BootEnvFile.open(path).body).toBe('{"n":0}');
    }
    // Neither record whole: refused, and FlashStore says so in its own terms.
    const both = flipped.slice();
    both[(1 - newest.index) * RECORD_BYTES + 20]! ^= 0x01;
    writeFileSync(path, both);
    expect(() => BootEnvFile.open(path)).toThrow(BootEnvError);
    expect(() => FlashStore.open(dir, 1 << 20)).toThrow(
      expect.objectContaining({ code: 'EMULATOR_STATE_INVALID' }),
    );
  });

  it('orders sequences across the u32 wrap', () => {
    const file = new Uint8Array(2 * RECORD_BYTES);
    file.set(encodeRecord(0xffff_ffff, 'old'), 0);
    file.set(encodeRecord(0, 'new'), RECORD_BYTES);
    expect(newestRecord(file)!.body).toBe('new');
  });

  it('refuses a body larger than a record and leaves the file as it was', () => {
    const dir = newDir();
    const path = join(dir, BOOT_ENV_FILE);
    const f = BootEnvFile.create(path, '{"n":0}');
    const before = readFileSync(path);
    expect(() => f.write('x'.repeat(RECORD_BYTES))).toThrow(BootEnvError);
    expect(readFileSync(path)).toEqual(before);
    f.close();
  });

  it('FlashStore moves a bootenv.json from before over once, and keeps its state', () => {
    const dir = newDir();
    const legacy = {
      format: 1,
      ...provision,
      active: 'a',
      trial: null,
      slots: { a: { size: 10, sha256: '00'.repeat(32), version: '0.1.0' }, b: null },
      staging: null,
    };
    writeFileSync(join(dir, 'bootenv.json'), JSON.stringify(legacy, null, 2));
    const store = FlashStore.open(dir, 1 << 20, provision);
    expect(store.env).toEqual(legacy);
    store.close();
    expect(existsSync(join(dir, 'bootenv.json'))).toBe(false);
    expect(JSON.parse(readBootEnvBody(dir))).toEqual(legacy);
    const again = FlashStore.open(dir, 1 << 20);
    expect(again.env.slots.a?.version).toBe('0.1.0');
    again.close();
  });
});
