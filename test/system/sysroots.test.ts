/**
 * Debian 12's Node.js 18 (what Raspberry Pi OS / Debian boards ship) run through scripts/node18:
 * natively for x64 (chroot into a sysroot) and under qemu-user for arm64 and armhf.
 *
 * The sysroots are prepared in beforeAll (scripts/prepare-sysroots.sh all: a no-op when .ci/run has
 * already done it). Nothing here is skipped: if a sysroot cannot be prepared, the suite fails.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../helpers/process.js';

const repo = fileURLToPath(new URL('../../', import.meta.url));
const node18 = join(repo, 'scripts', 'node18');
const prepare = join(repo, 'scripts', 'prepare-sysroots.sh');
const cacheDir = process.env.IOSNET_CACHE ?? join(repo, '.cache');

const EMULATED_TIMEOUT = 120_000;

/** The Node.js version the sysroot's stamp says its node printed when it was built. */
function stampedNodeVersion(arch: string): string {
  const stamp = readFileSync(join(cacheDir, 'sysroots', arch, '.iosnet-sysroot'), 'utf8');
  const match = /^node_version=(v\S+)$/m.exec(stamp);
  if (!match?.[1]) throw new Error(`no node_version in the ${arch} sysroot stamp`);
  return match[1];
}

let work = '';

beforeAll(async () => {
  const res = await run(prepare, ['all'], { timeoutMs: 590_000 });
  if (res.code !== 0) {
    throw new Error(
      `prepare-sysroots.sh all failed (code ${res.code}, signal ${res.signal}):\n${res.stderr}`,
    );
  }
  work = mkdtempSync(join(tmpdir(), 'iosnet-sysroots-'));
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('Debian 12 Node.js 18 sysroots', () => {
  it('prepare-sysroots.sh is a fast no-op once the sysroots exist', async () => {
    const start = Date.now();
    const res = await run(prepare, ['all']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^x64: cached /m);
    expect(res.stdout).toMatch(/^arm64: cached /m);
    expect(res.stdout).toMatch(/^armhf: cached /m);
    expect(Date.now() - start).toBeLessThan(5_000);
  });

  describe('x64 (chroot)', () => {
    it('runs node 18 with argv, env, exit code, stdin and a TCP connection to the host', async () => {
      const version = stampedNodeVersion('x64');
      expect(version).toMatch(/^v18\.\d+\.\d+$/);

      // A host server on a random loopback port that answers one line.
      const server: Server = createServer((sock) => {
        sock.setEncoding('utf8');
        sock.once('data', (d: string) => sock.end(`pong:${d.trim()}\n`));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no server port');

      const dir = mkdtempSync(join(work, 'x64-'));
      const script = join(dir, 'app.js');
      writeFileSync(
        script,
        `
const net = require('node:net');
console.log(process.version + ' ' + process.arch);
console.log(JSON.stringify(process.argv.slice(2)));
console.log('env=' + process.env.IOSNET_SYSROOT_TEST);
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  console.log('stdin=' + input.trim());
  const sock = net.connect(Number(process.env.PORT), '127.0.0.1', () => sock.write('ping\\n'));
  sock.setEncoding('utf8');
  let reply = '';
  sock.on('data', (d) => { reply += d; });
  sock.on('end', () => { console.log('tcp=' + reply.trim()); process.exitCode = 7; });
});
`,
      );
      try {
        const res = await run(node18, ['--arch', 'x64', script, 'one', 'two words'], {
          env: { IOSNET_SYSROOT_TEST: 'from-host', PORT: String(address.port) },
          input: 'hello from stdin\n',
        });
        expect(res.stderr).toBe('');
        expect(res.stdout.split('\n')).toEqual([
          `${version} x64`,
          JSON.stringify(['one', 'two words']),
          'env=from-host',
          'stdin=hello from stdin',
          'tcp=pong:ping',
          '',
        ]);
        expect(res.code).toBe(7);
      } finally {
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
    });

    it('--version prints the architecture and version', async () => {
      const res = await run(node18, ['--arch', 'x64', '--version']);
      expect(res.code).toBe(0);
      expect(res.stdout.trim()).toBe(`x64 ${stampedNodeVersion('x64')}`);
    });

    it('forwards SIGTERM to node', async () => {
      const dir = mkdtempSync(join(work, 'x64-sig-'));
      const script = join(dir, 'sig.js');
      writeFileSync(
        script,
        `process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(3); });
console.log('ready');
setInterval(() => {}, 1000);
`,
      );
      const child = spawn(node18, ['--arch', 'x64', script], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.setEncoding('utf8');
      const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (d: string) => {
          stdout += d;
          if (stdout.includes('ready')) resolve();
        });
      });
      child.kill('SIGTERM');
      expect(await exited).toBe(3);
      expect(stdout).toBe('ready\ngot SIGTERM\n');
    });

    it('--bind exposes a host directory and --mem-mb kills a run past its memory cap', async () => {
      const data = mkdtempSync(join(work, 'x64-data-'));
      const dir = mkdtempSync(join(work, 'x64-mem-'));
      const script = join(dir, 'mem.js');
      writeFileSync(
        script,
        `require('node:fs').writeFileSync(process.argv[2] + '/started', 'yes');
const keep = [];
for (;;) keep.push(Buffer.alloc(16 << 20, 1));
`,
      );
      const res = await run(node18, ['--arch', 'x64', '--mem-mb', '128', '--bind', data, script, data]);
      expect(readFileSync(join(data, 'started'), 'utf8')).toBe('yes');
      expect(res.signal).toBe('SIGKILL');
      expect(res.stderr).toMatch(/resident memory \d+ MiB > --mem-mb 128/);
    });
  });

  for (const arch of ['arm64', 'armhf'] as const) {
    describe(`${arch} (qemu-user)`, () => {
      it(
        'runs node 18 and writes into a bound host directory',
        async () => {
          const version = stampedNodeVersion(arch);
          expect(version).toMatch(/^v18\.\d+\.\d+$/);
          const processArch = arch === 'armhf' ? 'arm' : 'arm64';

          const data = mkdtempSync(join(work, `${arch}-data-`));
          const dir = mkdtempSync(join(work, `${arch}-`));
          const script = join(dir, 'app.js');
          writeFileSync(
            script,
            `const fs = require('node:fs');
console.log(process.version + ' ' + process.arch);
fs.writeFileSync(process.argv[2] + '/out.txt', 'written by ' + process.arch + ' ' + process.version);
`,
          );
          const res = await run(node18, ['--arch', arch, '--bind', data, script, data], {
            timeoutMs: EMULATED_TIMEOUT - 5_000,
          });
          expect(res.stderr).toBe('');
          expect(res.code).toBe(0);
          expect(res.stdout).toBe(`${version} ${processArch}\n`);
          expect(readFileSync(join(data, 'out.txt'), 'utf8')).toBe(`written by ${processArch} ${version}`);
        },
        EMULATED_TIMEOUT,
      );
    });
  }
});
