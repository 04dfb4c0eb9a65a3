/**
 * A real Mosquitto for tests (/usr/sbin/mosquitto, installed by scripts/install-system-deps.sh): in the
 * foreground with its own config on a free port, the gateway's generated password and ACL files, and its own
 * temp dir (a gateway's data dir is 0700 root, which user mosquitto cannot enter). Started as root, Mosquitto
 * drops to user mosquitto before reading its files, so they are chowned to it (ENV-NOTES.md). stop() ends it
 * by pid and removes the dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../gateway/devnet/ports.js';
import { mosquittoAcl, mosquittoPasswordLine } from '../../gateway/mqtt/mosquitto-files.js';

export const MOSQUITTO = '/usr/sbin/mosquitto';

export interface TestMosquitto {
  readonly url: string;
  /** host:port, the audience device tokens name. */
  readonly audience: string;
  readonly port: number;
  readonly files: { passwordFile: string; aclFile: string; pidFile: string };
  /** The last 4,000 characters Mosquitto wrote to stderr. */
  log(): string;
  stop(): Promise<void>;
}

export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function uidOf(user: string): number {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${user}:`));
  if (!line) throw new Error(`no user ${user}`);
  return Number(line.split(':')[2]);
}

/** Starts Mosquitto with the password/ACL files a gateway (user `gatewayUser`) keeps for chain `chainId`. */
export async function startMosquitto(opts: {
  chainId: string;
  gatewayUser: string;
  gatewayPassword: string;
}): Promise<TestMosquitto> {
  if (!existsSync(MOSQUITTO)) throw new Error(`${MOSQUITTO} missing: run scripts/install-system-deps.sh`);
  const dir = mkdtempSync(join(tmpdir(), 'iosnet-mosquitto-'));
  const port = await freePort();
  const files = {
    passwordFile: join(dir, 'passwd'),
    aclFile: join(dir, 'acl'),
    pidFile: join(dir, 'mosquitto.pid'),
  };
  writeFileSync(files.passwordFile, `${mosquittoPasswordLine(opts.gatewayUser, opts.gatewayPassword)}\n`, {
    mode: 0o600,
  });
  writeFileSync(files.aclFile, mosquittoAcl(opts.chainId, opts.gatewayUser));
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      `password_file ${files.passwordFile}`,
      `acl_file ${files.aclFile}`,
      `pid_file ${files.pidFile}`,
      'persistence false',
      'log_dest stderr',
      '',
    ].join('\n'),
  );
  if (process.getuid?.() === 0) {
    for (const p of [dir, files.passwordFile, files.aclFile, conf]) chownSync(p, uidOf('mosquitto'), 0);
  }
  const proc: ChildProcess = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  proc.stderr!.on('data', (b: Buffer) => {
    log = (log + b.toString()).slice(-4000);
  });
  const stop = async () => {
    if (proc.pid !== undefined && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid, 'SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const end = Date.now() + 5000;
  while (!(await canConnect(port))) {
    if (Date.now() > end || proc.exitCode !== null) {
      await stop();
      throw new Error(`mosquitto did not start: ${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `mqtt://127.0.0.1:${port}`,
    audience: `127.0.0.1:${port}`,
    port,
    files,
    log: () => log,
    stop,
  };
}
