/**
 * The emulated board's flash (boards/emulator/flash-store.ts) across a power cut: writes of received bytes
 * run on the thread pool behind the protocol, so a cut (close()) can come while some are queued or running.
 * None may fail loudly afterwards, and none may land in a file opened after the cut (a closed descriptor's
 * number is the next open's).
 */
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FlashStore } from '../../../boards/emulator/flash-store.js';
import { tempDirs } from '../../helpers/tmp.js';

const newDir = tempDirs('iosnet-flashstore-');

const provision = { boardId: 'emu-x64', releaseKey: 'ab'.repeat(32), hardwareSerial: 'SN-1' };
const SLOT = 1 << 20;
const CHUNK = 4096;

function staged(store: FlashStore, imageSize: number) {
  store.beginStaged({
    slot: store.inactiveSlot(),
    imageSha256: '00'.repeat(32),
    imageSize,
    manifest: '',
    signature: '',
    have: 0,
    complete: false,
  });
}

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('FlashStore across a power cut', () => {
  it('drops queued writes at the cut: nothing lands in a file opened after it, nothing is thrown', async () => {
    const dir = newDir();
    const store = FlashStore.open(dir, SLOT, provision, 5);
    staged(store, 64 * CHUNK);
    for (let i = 0; i < 32; i++) store.append(new Uint8Array(CHUNK).fill(0xa5));
    store.close();
    // Opened at once: it gets the lowest free descriptors, the ones the slots had.
    const others = [0, 1, 2].map((i) => join(dir, `other-${i}`));
    const fds = others.map((p) => openSync(p, 'w+'));
    await settle(100);
    for (const fd of fds) closeSync(fd);
    for (const p of others) expect(readFileSync(p).length).toBe(0);
    // What was never synced is not claimed after power-on.
    const after = FlashStore.open(dir, SLOT);
    expect(after.env.staging?.have ?? 0).toBe(0);
    after.close();
  });

  it('a cut while a sync runs leaves the last durable count, and completeStaged after the cut rejects', async () => {
    const dir = newDir();
    const store = FlashStore.open(dir, SLOT, provision, 1);
    staged(store, 64 * CHUNK);
    for (let i = 0; i < 20; i++) store.append(new Uint8Array(CHUNK).fill(i));
    // Idle sync due after 1 ms; cut around it.
    await settle(3);
    for (let i = 20; i < 64; i++) store.append(new Uint8Array(CHUNK).fill(i));
    const done = store.completeStaged();
    store.close();
    await expect(done).rejects.toMatchObject({ code: 'FLASH_BOARD_FAULT' });
    await settle(50);
    const after = FlashStore.open(dir, SLOT);
    const have = after.env.staging?.have ?? 0;
    expect(have % CHUNK).toBe(0);
    expect(have).toBeLessThan(64 * CHUNK);
    // Every byte it claims is on flash.
    const bytes = after.read(after.env.staging?.slot ?? 'a', have);
    for (let i = 0; i < have / CHUNK; i++) expect(bytes[i * CHUNK]).toBe(i);
    after.close();
  });
});
