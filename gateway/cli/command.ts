/**
 * The contract between the `iosnet` dispatcher (bin/main.ts) and a subcommand module, plus the error the
 * dispatcher reports as a usage error (exit code 2). A subcommand module exports `command: CliCommand`;
 * the dispatcher loads it lazily, so a command's dependencies cost nothing until it runs.
 *
 * Arguments are parsed with node:util parseArgs in strict mode: an unknown option, a missing option value
 * or a stray positional is a usage error, never silently ignored.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { IosnetError } from '../../core/errors.js';

export interface CliCommand {
  /** Full help text, printed by `iosnet <cmd> --help` and `iosnet help <cmd>`. */
  readonly usage: string;
  /** Parses `argv` (the words after the command name) and runs; throws to report an error. */
  main(argv: readonly string[]): Promise<void>;
}

/** Bad command line: the dispatcher prints `iosnet <cmd>: <message>` and exits with 2. */
export class UsageError extends IosnetError<'CLI_USAGE'> {
  constructor(message: string) {
    super('CLI_USAGE', message);
  }
}

type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
type Parsed<O extends OptionsConfig> = ReturnType<
  typeof parseArgs<{ options: O; strict: true; allowPositionals: true }>
>;

export interface CommandArgs<O extends OptionsConfig> {
  readonly values: Parsed<O>['values'];
  readonly positionals: readonly string[];
}

export interface CommandSpec<O extends OptionsConfig> {
  readonly usage: string;
  readonly options: O;
  /** Allowed number of positional arguments, inclusive; default none. */
  readonly positionals?: { readonly min: number; readonly max: number };
  run(args: CommandArgs<O>): Promise<void> | void;
}

const HELP_OPTION = { help: { type: 'boolean', short: 'h' } } as const;

export function defineCommand<const O extends OptionsConfig>(spec: CommandSpec<O>): CliCommand {
  return {
    usage: spec.usage,
    async main(argv) {
      // parseArgs throws TypeErrors with code ERR_PARSE_ARGS_*; the dispatcher turns them into usage errors.
      const parsed = parseArgs({
        args: [...argv],
        options: { ...spec.options, ...HELP_OPTION },
        strict: true,
        allowPositionals: true,
      });
      if ((parsed.values as { help?: boolean }).help === true) {
        console.log(spec.usage);
        return;
      }
      const { min, max } = spec.positionals ?? { min: 0, max: 0 };
      const n = parsed.positionals.length;
      if (n > max) throw new UsageError(`unexpected argument '${parsed.positionals[max]}'`);
      if (n < min)
        throw new UsageError(min === 1 ? 'missing argument' : `expected at least ${min} arguments`);
      await spec.run({ values: parsed.values as Parsed<O>['values'], positionals: parsed.positionals });
    },
  };
}

/** A required string option: UsageError naming it when absent or empty. */
export function requireOption(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** Prints a warning for the operator on stderr (one line), without failing the command. */
export function warn(commandName: string, message: string): void {
  console.error(`iosnet ${commandName}: warning: ${message}`);
}

/** Prints one JSON object for scripts. */
export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
