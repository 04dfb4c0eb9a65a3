/** `iosnet keygen`: a new Ed25519 key (account, device or gateway node key), optionally with a BLS validator key. */
import { toHex } from '../../core/bytes.js';
import { generateKeyFile, writeKeyFile } from '../keys/keyfile.js';
import { defineCommand, printJson, requireOption } from './command.js';
import { cliCrypto } from './crypto.js';

const USAGE = `usage: iosnet keygen --out FILE [--validator] [--force] [--json]

Generates an Ed25519 key (account, device or gateway node key) and writes it to FILE as a JSON key file
with mode 0600. Prints the address and public keys, never the secret keys.

options:
  --out FILE     key file to create (refuses to replace an existing file)
  --validator    also generate a BLS12-381 key and its proof of possession (validators)
  --force        replace FILE if it exists (atomically)
  --json         print one JSON object
  -h, --help     show this help`;

export const command = defineCommand({
  usage: USAGE,
  options: {
    out: { type: 'string' },
    validator: { type: 'boolean' },
    force: { type: 'boolean' },
    json: { type: 'boolean' },
  },
  run({ values }) {
    const out = requireOption(values.out, 'out');
    const crypto = cliCrypto();
    const key = generateKeyFile(crypto, { validator: values.validator === true });
    writeKeyFile(out, key, { force: values.force === true });
    const summary = {
      file: out,
      address: toHex(key.address),
      publicKey: toHex(key.ed25519.publicKey),
      ...(key.bls ? { blsPublicKey: toHex(key.bls.publicKey), blsPop: toHex(key.bls.pop) } : {}),
    };
    if (values.json) return printJson(summary);
    console.log(`wrote ${out} (mode 0600)`);
    console.log(`address         ${summary.address}`);
    console.log(`ed25519 pubkey  ${summary.publicKey}`);
    if (key.bls) {
      console.log(`bls pubkey      ${summary.blsPublicKey}`);
      console.log(`bls pop         ${summary.blsPop}`);
    }
  },
});
