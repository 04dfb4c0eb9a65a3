#!/usr/bin/env node
// Completes package-lock.json with the platform-specific optional packages that
// the registry mirror of our build machines does not serve (e.g. darwin/win32
// builds of @biomejs/cli-*). `npm install` silently drops an optional
// dependency it cannot fetch, and `npm ci` then refuses the lock as "out of
// sync". An entry with the right os/cpu lets `npm ci` skip the package on
// platforms it does not match, exactly as with a complete lock.
//
// Usage: node scripts/lockfile-platforms.mjs NAME...   (names `npm ci` reported missing)
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
const pkgs = lock.packages;

const OS = ['android', 'darwin', 'linux', 'win32', 'freebsd'];
const CPU = ['arm64', 'x64', 'arm', 'ia32'];

function platformOf(name) {
  const parts = name.split('/').pop().split('-');
  const musl = parts.at(-1) === 'musl';
  if (musl) parts.pop();
  const cpu = parts.pop();
  const os = parts.pop();
  if (!OS.includes(os) || !CPU.includes(cpu)) throw new Error(`cannot infer platform of ${name}`);
  return { os: [os], cpu: [cpu], ...(musl ? { libc: ['musl'] } : {}) };
}

let added = 0;
for (const name of process.argv.slice(2)) {
  const key = `node_modules/${name}`;
  if (pkgs[key]) continue;
  const parent = Object.values(pkgs).find((p) => p.optionalDependencies?.[name]);
  if (!parent) throw new Error(`no package in the lock names ${name} as optional`);
  const version = parent.optionalDependencies[name].replace(/^[\^~=]/, '');
  if (!/^\d+\.\d+\.\d+$/.test(version)) throw new Error(`${name}: range ${version} is not exact`);
  pkgs[key] = { version, ...(parent.dev ? { dev: true } : {}), optional: true, ...platformOf(name) };
  added++;
}
lock.packages = Object.fromEntries(
  Object.entries(pkgs).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(LOCK, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile-platforms: added ${added} entries`);
