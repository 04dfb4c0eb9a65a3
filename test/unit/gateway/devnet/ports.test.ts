import { utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ephemeralLow, freePort, LEASE_MS, PORT_FLOOR } from '../../../../gateway/devnet/ports.js';
import { tempDirs } from '../../../helpers/tmp.js';

const leaseDir = tempDirs('iosnet-ports-test-');
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

/** Some port freePort's default range could give, held by a listening server for the test. */
async function holdOne(): Promise<number> {
  const port = await freePort({ leaseDir: leaseDir() });
  const s = createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
  return port;
}

describe('freePort', () => {
  it('picks below the kernel ephemeral range, a different port each call, each of them bindable', async () => {
    const dir = leaseDir();
    const ports = new Set<number>();
    for (let i = 0; i < 40; i++) ports.add(await freePort({ leaseDir: dir }));
    expect(ports.size).toBe(40);
    for (const p of ports) {
      expect(p).toBeGreaterThanOrEqual(PORT_FLOOR);
      expect(p).toBeLessThan(ephemeralLow());
    }
  });

  it('skips a port in use and a port leased by another picker; takes an expired lease', async () => {
    const used = await holdOne();
    await expect(freePort({ low: used, high: used, leaseDir: leaseDir() })).rejects.toThrow(
      /no free loopback port/,
    );
    const dir = leaseDir();
    const port = await freePort({ leaseDir: dir });
    // Bindable, but leased (by that call).
    await expect(freePort({ low: port, high: port, leaseDir: dir })).rejects.toThrow(/no free loopback port/);
    // Once the lease is older than LEASE_MS, the port is free to pick again.
    const old = new Date(Date.now() - LEASE_MS - 1000);
    utimesSync(join(dir, String(port)), old, old);
    expect(await freePort({ low: port, high: port, leaseDir: dir })).toBe(port);
    // A fresh lease file written by another process is honoured.
    const other = leaseDir();
    writeFileSync(join(other, String(port)), '');
    await expect(freePort({ low: port, high: port, leaseDir: other })).rejects.toThrow(
      /no free loopback port/,
    );
    expect(await freePort({ low: port, high: port, leaseDir: leaseDir() })).toBe(port);
  });
});
