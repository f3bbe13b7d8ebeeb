import type { CliIo } from '../../src/cli/io.js';

/** A CliIo that collects what a command writes, for driving `main(argv, io)` in tests without spawning. */
export function fakeIo(env: NodeJS.ProcessEnv = {}): CliIo & { out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    env,
    out: () => out,
    err: () => err,
  };
}
