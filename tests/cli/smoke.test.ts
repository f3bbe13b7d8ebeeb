import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';

/**
 * Spawn smoke test of the built CLI (`dist/src/cli/main.js`, what `npm install -g` runs): for every command and
 * subcommand that main.ts registers, `ecg-monitor <path> --help` exits 0 and prints a usage line, and an unknown flag
 * exits 2 (usage error) with commander's message and nothing on stdout (spawned for the root and the top-level commands,
 * run through `main()` in process for the subcommands: each spawn costs about a second of module loading).
 *
 * The command tree is discovered in process, from the `Commands:` sections of `main([...path, '--help'])`, so a
 * command added to main.ts is covered without touching this file; the spawned binary must then know it too (a stale
 * dist/ fails here: run `npm run build`, as `npm test` does). Without dist/ the suite is skipped locally and fails
 * with CI=true.
 */

const MAIN_JS = resolve('dist/src/cli/main.js');
const haveDist = existsSync(MAIN_JS);
if (!haveDist && process.env.CI === 'true') throw new Error(`${MAIN_JS} missing and CI=true: run \`npm run build\` first (npm test does)`);

/** Runs main() in process and returns what it printed on stdout. */
async function helpOf(path: readonly string[]): Promise<string> {
  let out = '';
  const io: CliIo = { stdout: { write: (s: string) => (out += s) }, stderr: { write: () => true }, env: process.env };
  const code = await main([...path, '--help'], io);
  if (code !== 0) throw new Error(`main([${path.join(', ')}, --help]) exited ${code}`);
  return out;
}

/** Subcommand names listed in a help text's `Commands:` section (commander's own `help` command left out). */
function subcommandsOf(help: string): string[] {
  const lines = help.split('\n');
  const start = lines.findIndex((l) => l.trim() === 'Commands:');
  if (start < 0) return [];
  const names: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.trim() === '') break; // end of the section
    const m = /^ {2}(\S+)/.exec(line); // continuation lines of wrapped descriptions are indented further
    if (m && m[1] !== 'help') names.push(m[1]!);
  }
  return names;
}

/** Every command path under the root: ['serve'], ['mitdb'], ['mitdb', 'fetch'], ... */
async function commandPaths(): Promise<string[][]> {
  const paths: string[][] = [];
  const walk = async (path: string[]): Promise<void> => {
    for (const name of subcommandsOf(await helpOf(path))) {
      paths.push([...path, name]);
      await walk([...path, name]);
    }
  };
  await walk([]);
  return paths;
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: readonly string[]): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [MAIN_JS, ...args], { timeout: 60_000, env: { ...process.env, LOG_LEVEL: 'silent' } }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      done({ code, stdout, stderr });
    });
  });
}

async function runInProcess(args: readonly string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) }, env: process.env };
  return { code: await main(args, io), stdout, stderr };
}

describe('subcommandsOf', () => {
  it("reads the Commands: section, wrapped descriptions and commander's help command aside", () => {
    const help = 'Usage: x [options] [command]\n\nOptions:\n  -h, --help  display help\n\nCommands:\n  qrs [options]    EC57 QRS\n                   (wrapped)\n  beats            score\n  help [command]   display help for command\n';
    expect(subcommandsOf(help)).toEqual(['qrs', 'beats']);
    expect(subcommandsOf('Usage: x [options]\n\nOptions:\n  -h, --help\n')).toEqual([]);
  });
});

describe.skipIf(!haveDist)('ecg-monitor (spawned from dist/): --help and unknown flags for every command', async () => {
  const paths = haveDist ? await commandPaths() : [];

  it('main.ts registers the commands the style guide names (the walk found them)', () => {
    const top = paths.filter((p) => p.length === 1).map((p) => p[0]);
    for (const name of ['serve', 'mitdb', 'eval', 'dataset', 'bench', 'train']) expect(top).toContain(name);
    expect(paths.length).toBeGreaterThan(top.length); // and subcommands below them
  });

  it('`ecg-monitor --help` exits 0 with a usage line; an unknown flag exits 2', async () => {
    const help = await run(['--help']);
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ecg-monitor /);
    const bad = await run(['--no-such-flag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option '--no-such-flag'");
  });

  it('every help file in src/cli/help is printed whole by some command\'s --help (no orphaned file)', async () => {
    const helps = await Promise.all(paths.map(helpOf));
    const dir = resolve('src/cli/help');
    const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));
    expect(files.length).toBeGreaterThanOrEqual(6);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8').trim();
      expect([file, helps.some((h) => h.includes(text))]).toEqual([file, true]);
    }
  });

  // One test per command. Every --help is spawned; the unknown flag is spawned for the top-level commands (the exit code
  // set by the process entry point) and run in process below them (the same parse and exit-code mapping, a second cheaper).
  it.each(paths.map((p) => [p.join(' '), p] as const))('`ecg-monitor %s --help` exits 0 and prints Usage:, an unknown flag exits 2', async (_, path) => {
    const spawnBad = path.length === 1;
    const [help, bad] = await Promise.all([run([...path, '--help']), spawnBad ? run([...path, '--no-such-flag']) : runInProcess([...path, '--no-such-flag'])]);
    expect(help.code, `${path.join(' ')} --help: ${help.stderr}`).toBe(0);
    expect(help.stdout).toContain(`Usage: ecg-monitor ${path.join(' ')}`);
    expect(bad.code, `${path.join(' ')} --no-such-flag: ${bad.stderr}`).toBe(2);
    expect(bad.stderr).toContain("unknown option '--no-such-flag'");
    expect(bad.stdout).toBe('');
  });
});
