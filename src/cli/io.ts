import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';

/** Where a command writes: injected so tests can run `main()` with fake streams instead of spawning. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** The code every command-line error carries (docs/errors.md), commander's own parse errors included. */
export const USAGE_CODE = 'ECG_ERR_USAGE';

/**
 * Commander's error message (`error: unknown option '--x'\n`, possibly with a `(Did you mean ...?)` line) with the usage
 * code at its end, as the CLI prints every other error: `<message> [ECG_ERR_USAGE]`.
 */
export function withUsageCode(message: string): string {
  return `${message.replace(/\n+$/, '')} [${USAGE_CODE}]\n`;
}

/**
 * A command whose parse errors and output go through `io`, so tests see them instead of the process exiting.
 * Its parse errors (unknown option or command, invalid or missing argument) end with the usage code.
 */
export function newCommand(name: string, io: CliIo): Command {
  return new Command(name).exitOverride().configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    // Only commander's error messages pass here (help, even after an error, goes through writeErr directly).
    outputError: (s, write) => write(withUsageCode(s)),
  });
}

/**
 * The arguments with a `help` command spelled out as `--help` on the command it names: `help eval beats` and
 * `eval help beats` become `eval beats --help` (commander's own help command reads one name only, so `help eval beats`
 * showed the help of `eval`). A name that is no command (`help eval bogus`) becomes `eval bogus`, for commander's
 * unknown-command error; arguments without such a `help`, or with options after it, are returned as they are.
 */
export function expandHelpCommand(program: Command, argv: readonly string[]): string[] {
  const find = (cmd: Command, name: string | undefined): Command | undefined =>
    cmd.commands.find((c) => c.name() === name || c.aliases().includes(name ?? ''));
  let cmd = program;
  let i = 0;
  for (; i < argv.length && argv[i] !== 'help'; i++) {
    const sub = find(cmd, argv[i]);
    if (sub === undefined) return [...argv];
    cmd = sub;
  }
  if (i === argv.length || cmd.commands.length === 0) return [...argv]; // no help command here
  const path = argv.slice(0, i);
  const names = argv.slice(i + 1);
  if (names.some((n) => n.startsWith('-'))) return [...argv];
  for (const [k, name] of names.entries()) {
    const sub = find(cmd, name);
    if (sub === undefined) return [...path, ...names.slice(0, k + 1)];
    cmd = sub;
  }
  return [...path, ...names, '--help'];
}

/** Splits a comma-separated option value (`100, 101,`) into its trimmed, non-empty items. */
export function commaList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

// Option parsers for commander's `argParser`: a bad value is a usage error (exit 2), and commander's message already
// names the option ("option '--epochs <n>' argument '0' is invalid."), so these say only what was wrong.

/** Parses a positive integer option (a count: epochs, repetitions, workers). */
export function positiveInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`must be a positive integer, got "${value}"`);
  return n;
}

/** Parses a positive number option (a duration, a rate). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`must be a positive number, got "${value}"`);
  return n;
}

/** Parses a non-negative number option (a replay speed, a start time in seconds); an empty value is refused. */
export function nonNegativeNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`must be a number >= 0, got "${value}"`);
  return n;
}

/** Parses a non-negative integer option (a seed, an offset). */
export function nonNegativeInteger(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`must be a non-negative integer, got "${value}"`);
  return n;
}

/** What a `--records` option holds: `all` (each command says which records that is), or record names. */
export type RecordsOption = 'all' | string[];

/**
 * Parses a `--records` option: `all`, or comma-separated record names, as a RECORDS file lists them (letters, digits,
 * `_`, `.`, `-`, and `/` between the folders of databases that keep records in subfolders; no part starting with `.`
 * or `-`, so that a name cannot climb out of the database folder). One parser for every command; what `all` means
 * (the database's RECORDS file, or the 48 MIT-BIH records) is the command's to say.
 */
export function recordsOption(value: string): RecordsOption {
  if (value === 'all') return 'all';
  const names = commaList(value);
  if (names.length === 0 || names.some((n) => !n.split('/').every((part) => /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/.test(part)))) {
    throw new InvalidArgumentError(`must be 'all' or comma-separated record names, got "${value}"`);
  }
  return names;
}

/** A `--lead` value: a signal index when it is all digits (`1`), else a lead name (`MLII`, `V5`). */
export function leadOption(value: string): string | number {
  return /^\d+$/.test(value) ? Number(value) : value;
}

/** Writes a progress line on stderr: redrawn in place on a terminal, one line per update in a log file. */
export function progressLine(io: CliIo, text: string): void {
  io.stderr.write(io.stderr.isTTY ? `\r${text}\x1b[K` : `${text}\n`);
}

/**
 * A command's long help, kept beside the code in src/cli/help/NAME.txt (`npm run build` copies the folder to dist).
 * A missing file is a packaging error and throws, rather than leaving `--help` silently short.
 */
export function helpFile(name: string): string {
  return readFileSync(new URL(`./help/${name}.txt`, import.meta.url), 'utf8');
}
