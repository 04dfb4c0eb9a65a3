/**
 * Entry point of a device image (what flash-scripts bundle for a board): `node image.mjs run --config FILE
 * [--once]` or `node image.mjs identity --config FILE`. The same commands as `iosnet device ...`, without
 * the dispatcher (which loads gateway code); errors are one line, `iosnet-device <cmd>: CODE: message`.
 */
import { IosnetError } from '../core/errors.js';
import { cosignRegistrationCommand, type DeviceCliCommand, identityCommand, runCommand } from './cli.js';

const COMMANDS: Record<string, DeviceCliCommand> = {
  run: runCommand,
  identity: identityCommand,
  'cosign-registration': cosignRegistrationCommand,
};

export async function deviceMain(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  const command = name === undefined ? undefined : COMMANDS[name];
  if (!command) {
    console.error('usage: iosnet-device run|identity --config FILE [--once]');
    return 2;
  }
  try {
    await command.main(rest);
    return 0;
  } catch (err) {
    const usage = err instanceof IosnetError && err.code === 'CLI_USAGE';
    const code = (err as { code?: unknown }).code;
    const what =
      err instanceof IosnetError && !usage ? `${err.code}: ${err.message}` : (err as Error).message;
    const parse = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
    console.error(`iosnet-device ${name}: ${what.replace(/\s*\n\s*/g, ' ')}`);
    return usage || parse ? 2 : 1;
  }
}

process.exitCode = await deviceMain(process.argv.slice(2));
