import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';

/** Where a command writes: injected so tests can run `main()` with fake streams instead of spawning. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  env: NodeJS.ProcessEnv;
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env };

/** A command whose parse errors and output go through `io`, so tests see them instead of the process exiting. */
export function newCommand(name: string, io: CliIo): Command {
  return new Command(name)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) });
}

/** Splits a comma-separated option value (`100, 101,`) into its trimmed, non-empty items. */
export function commaList(value: string): string[] {
  return value.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

/** Parses a positive number option, for commander's `argParser` (a bad value is a usage error, exit 2). */
export function positiveNumber(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got "${value}"`);
    return n;
  };
}

/** Parses a non-negative integer option. */
export function nonNegativeInteger(name: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${name} must be a non-negative integer, got "${value}"`);
    return n;
  };
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
