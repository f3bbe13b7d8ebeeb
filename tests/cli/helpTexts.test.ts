import { describe, expect, it } from 'vitest';
import { decodeBenchSuite } from '../../src/bench/decode.js';
import { newCommand } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { allPaths, helpOf, section } from '../helpers/commandTree.js';
import { fakeIo } from '../helpers/fakeIo.js';

/**
 * What every `--help` owes its reader (README: every command has --help with defaults and an example): an example for
 * each command and each group, each option listed once with one default, numbers shown as numbers.
 */

/** Each entry of the Options: section as one string (wrapped descriptions joined). */
function optionEntries(help: string): string[] {
  const entries: string[] = [];
  for (const line of section(help, 'Options')) {
    if (/^ {2}-/.test(line)) entries.push(line.trim());
    else entries[entries.length - 1] += ` ${line.trim()}`;
  }
  return entries;
}

describe('--help of every command and group', async () => {
  const paths = (await allPaths()).filter((p) => p.length > 0);

  it('walks the whole tree (groups and their commands)', () => {
    for (const p of [['mitdb'], ['eval'], ['dataset'], ['bench'], ['bench', 'decode'], ['bench', 'all'], ['eval', 'beats']]) {
      expect(paths).toContainEqual(p);
    }
  });

  it.each(paths.map((p) => [p.join(' '), p] as const))('%s: an example; each option once, with at most one default', async (_, path) => {
    const help = await helpOf(path);
    expect(help).toMatch(/\nExamples?( \([^)]*\))?:\n {2}[^\n]*ecg-monitor /);
    // Flags that start an entry (two spaces in; wrapped descriptions are indented further): commander's list, and no
    // hand-written block listing them a second time.
    const flags = [...help.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]!);
    expect(flags.filter((f, i) => flags.indexOf(f) !== i)).toEqual([]);
    for (const entry of optionEntries(help)) expect([entry, entry.split('(default:').length - 1 <= 1]).toEqual([entry, true]);
  });
});

describe('bench decode --repetitions', () => {
  it('defaults to the number 5 (shown unquoted, what `bench all` runs with)', async () => {
    expect(await helpOf(['bench', 'decode'])).toMatch(/--repetitions <n> .*\(default:\s+5\)/s);
    expect(decodeBenchSuite.addOptions(newCommand('decode', fakeIo())).opts().repetitions).toBe(5);
  });

  it('a count that is not a positive integer is a usage error', async () => {
    const io = fakeIo();
    expect(await main(['bench', 'decode', '--repetitions', '0'], io)).toBe(2);
    expect(io.err()).toMatch(/option '--repetitions <n>' argument '0' is invalid\. must be a positive integer, got "0" \[ECG_ERR_USAGE\]/);
  });
});
