/**
 * The `iosnet` dispatcher. Subcommands are loaded lazily from the folder that owns them, so `iosnet --help`
 * loads nothing but this file and core/errors.ts, and the dependency direction holds: core imports nothing,
 * gateway and device import core, and only bin/ may import from every folder.
 *
 * Adding a command is one line in COMMANDS. A name may have several words ('gateway init'): the longest
 * name matching the leading arguments wins. A module exports `command: CliCommand` (gateway/cli/command.ts).
 *
 * Errors: exactly one line on stderr, `iosnet <cmd>: <message>`, exit 2 for usage errors and 1 otherwise;
 * an IosnetError shows its code (and byte offset for decode errors). No stack trace unless IOSNET_DEBUG=1.
 */
import { readFileSync } from 'node:fs';
import { IosnetError } from '../core/errors.js';
import type { CliCommand } from '../gateway/cli/command.js';

type Loader = () => Promise<{ readonly command: CliCommand }>;

interface CommandEntry {
  readonly name: string;
  readonly summary: string;
  readonly load: Loader;
}

const entry = (name: string, summary: string, load: Loader): CommandEntry => ({ name, summary, load });

/** One line per command: its name (words), its summary for `iosnet --help`, the loader of its module. */
const COMMANDS: readonly CommandEntry[] = [
  entry('keygen', 'generate a key file (BLS too: --validator)', () => import('../gateway/cli/keygen.js')),
  entry('identity', 'print a device identity hash', () => import('../gateway/cli/identity.js')),
  entry('genesis', 'build a genesis file', () => import('../gateway/cli/genesis.js')),
  entry('decode', 'decode an iosnet object, check its signatures', () => import('../gateway/cli/decode.js')),
  entry('gateway init', 'create a gateway: validator key and config', () =>
    import('../gateway/cli/gateway.js').then((m) => ({ command: m.initCommand })),
  ),
  entry('gateway start', 'run a gateway in the foreground', () =>
    import('../gateway/cli/gateway.js').then((m) => ({ command: m.startCommand })),
  ),
  entry('tx send', 'transfer IOST (--wait 1|2 for a grade)', () =>
    import('../gateway/cli/tx.js').then((m) => ({ command: m.sendCommand })),
  ),
  entry('tx stake', 'stake IOST', () =>
    import('../gateway/cli/tx.js').then((m) => ({ command: m.stakeCommand })),
  ),
  entry('tx unstake', 'unstake IOST', () =>
    import('../gateway/cli/tx.js').then((m) => ({ command: m.unstakeCommand })),
  ),
  entry('tx review', 'rate a service (1..5)', () =>
    import('../gateway/cli/tx.js').then((m) => ({ command: m.reviewCommand })),
  ),
  entry('device run', 'run the device light client over MQTT (--config FILE)', () =>
    import('../device/cli.js').then((m) => ({ command: m.runCommand })),
  ),
  entry('device identity', "print the device's public key and identity hash (--config FILE)", () =>
    import('../device/cli.js').then((m) => ({ command: m.identityCommand })),
  ),
  entry('device cosign-registration', "co-sign the owner's register-device transaction (--config FILE)", () =>
    import('../device/cli.js').then((m) => ({ command: m.cosignRegistrationCommand })),
  ),
  entry(
    'device register',
    "register a board's device over serial: it signs, the owner co-signs",
    () => import('../flash-scripts/cli/register.js'),
  ),
  entry('boards', 'list the boards images are built for', () => import('../flash-scripts/cli/boards.js')),
  entry('image build', 'build a signed device image for a board', () =>
    import('../flash-scripts/cli/image.js').then((m) => ({ command: m.buildCommand })),
  ),
  entry(
    'flash',
    'flash a signed image to a board over serial',
    () => import('../flash-scripts/cli/flash.js'),
  ),
  entry(
    'board emulate',
    'run an emulated board on a serial port (pty)',
    () => import('../flash-scripts/cli/emulate.js'),
  ),
  entry(
    'devnet',
    'run a local devnet with load and a live status (npm start)',
    () => import('../gateway/cli/devnet.js'),
  ),
];

const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;
const debug = process.env.IOSNET_DEBUG === '1';

function generalUsage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    'usage: iosnet <command> [options]',
    '',
    'commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    "Run 'iosnet <command> --help' for a command's options. IOSNET_DEBUG=1 shows stack traces.",
  ].join('\n');
}

/** The entry whose (possibly multi-word) name matches the most leading words of argv. */
function findCommand(argv: readonly string[]): { entry: CommandEntry; rest: readonly string[] } | undefined {
  let best: CommandEntry | undefined;
  let bestWords = 0;
  for (const entry of COMMANDS) {
    const words = entry.name.split(' ');
    if (words.length > bestWords && words.every((w, i) => argv[i] === w)) {
      best = entry;
      bestWords = words.length;
    }
  }
  return best && { entry: best, rest: argv.slice(bestWords) };
}

/** One line for the operator and the exit code. */
function describeError(err: unknown): { message: string; exitCode: number } {
  if (err instanceof IosnetError) {
    if (err.code === 'CLI_USAGE') return { message: err.message, exitCode: EXIT_USAGE };
    const offset = typeof err.data.offset === 'number' ? ` (offset ${err.data.offset})` : '';
    return { message: `${err.code}: ${err.message}${offset}`, exitCode: EXIT_FAILURE };
  }
  const e = err as NodeJS.ErrnoException | undefined;
  if (typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS_')) {
    // parseArgs explains itself in several sentences; the first says what is wrong.
    return { message: e.message.split('. ')[0]!.replace(/\.$/, ''), exitCode: EXIT_USAGE };
  }
  if (typeof e?.syscall === 'string') return { message: e.message, exitCode: EXIT_FAILURE };
  const message = err instanceof Error ? err.message : String(err);
  return { message: `internal error: ${message}`, exitCode: EXIT_FAILURE };
}

function fail(prefix: string, err: unknown): void {
  const { message, exitCode } = describeError(err);
  console.error(`${prefix}: ${message.replace(/\s*\n\s*/g, ' ')}`);
  if (debug && err instanceof Error && err.stack) console.error(err.stack);
  process.exitCode = exitCode;
}

function usageError(prefix: string, message: string): void {
  console.error(`${prefix}: ${message}`);
  process.exitCode = EXIT_USAGE;
}

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

async function main(argv: readonly string[]): Promise<void> {
  const first = argv[0];
  if (first === undefined) return usageError('iosnet', "missing command (see 'iosnet --help')");
  if (first === '--help' || first === '-h' || (first === 'help' && argv.length === 1)) {
    console.log(generalUsage());
    return;
  }
  if (first === '--version') {
    console.log(version());
    return;
  }
  const helpFor = first === 'help';
  const words = helpFor ? argv.slice(1) : argv;
  const found = findCommand(words);
  if (!found) {
    const prefix = `iosnet ${words[0]}`;
    const subcommands = COMMANDS.filter((c) => c.name.startsWith(`${words[0]} `)).map(
      (c) => c.name.split(' ')[1],
    );
    if (subcommands.length > 0) return usageError(prefix, `expected a subcommand: ${subcommands.join(', ')}`);
    return usageError(prefix, "unknown command (see 'iosnet --help')");
  }
  const prefix = `iosnet ${found.entry.name}`;
  // Last resort for commands that keep running (gateway, devnet): an error thrown from a callback still
  // ends as one line rather than Node's default stack dump.
  process.on('uncaughtException', (err) => {
    fail(prefix, err);
    process.exit(process.exitCode);
  });
  process.on('unhandledRejection', (err) => {
    fail(prefix, err);
    process.exit(process.exitCode);
  });
  try {
    const { command } = await found.entry.load();
    if (helpFor) console.log(command.usage);
    else await command.main(found.rest);
  } catch (err) {
    fail(prefix, err);
  }
}

// `iosnet decode x | head` closes stdout early: that is the reader's choice, not an error to report.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

await main(process.argv.slice(2));
