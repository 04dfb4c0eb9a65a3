import { describe, expect, it } from 'vitest';
import { getBoard, listBoards, sysrootArch } from '../../../boards/index.js';
import { rpi4 } from '../../../boards/rpi4.js';
import { BoardError, defineBoard } from '../../../boards/types.js';

describe('board table', () => {
  it('has the real and emulated boards the issue names, with unique ids', () => {
    const ids = listBoards().map((b) => b.id);
    expect(ids).toEqual([
      'rpi4',
      'rpi-zero-2w',
      'rpi3',
      'drone-companion',
      'vehicle-tcu',
      'emu-x64',
      'emu-arm64',
      'emu-armv7',
    ]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('describes each board as its hardware is', () => {
    expect(getBoard('rpi-zero-2w')).toMatchObject({ arch: 'arm64', ramMb: 512 });
    expect(getBoard('rpi3').arch).toBe('armv7');
    for (const b of listBoards()) {
      expect(b.nodeMajor).toBe(18);
      expect(b.slotBytes).toBeGreaterThanOrEqual(1024 * 1024);
      expect(b.flash.method).toBe('serial-frames');
      expect(b.transports).toContain('serial');
      expect(Object.isFrozen(b)).toBe(true);
    }
    expect(
      listBoards()
        .filter((b) => b.emulated)
        .map((b) => b.arch),
    ).toEqual(['x64', 'arm64', 'armv7']);
  });

  it('maps architectures to sysroots', () => {
    expect(['emu-x64', 'emu-arm64', 'emu-armv7'].map((id) => sysrootArch(getBoard(id)))).toEqual([
      'x64',
      'arm64',
      'armhf',
    ]);
  });

  it('refuses an unknown board id with BOARD_UNKNOWN naming the known ones', () => {
    const err = (() => {
      try {
        getBoard('rpi5');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(BoardError);
    expect((err as BoardError).code).toBe('BOARD_UNKNOWN');
    expect((err as BoardError).message).toContain('emu-x64');
  });

  it('refuses malformed definitions with BOARD_INVALID', () => {
    expect(() => defineBoard({ ...rpi4, id: 'Bad Id' })).toThrow(/id/);
    expect(() => defineBoard({ ...rpi4, ramMb: 10 })).toThrow(/ramMb/);
    expect(() => defineBoard({ ...rpi4, slotBytes: 1000 })).toThrow(/slotBytes/);
    expect(() => defineBoard({ ...rpi4, transports: [] })).toThrow(/transports/);
    expect(() => defineBoard({ ...rpi4, nodeMajor: 16 })).toThrow(/nodeMajor/);
  });
});
