import { describe, expect, it } from 'vitest';
import { expandHelpCommand, newCommand, recordsOption, withUsageCode } from '../../src/cli/io.js';
import { main } from '../../src/cli/main.js';
import { fakeIo } from '../helpers/fakeIo.js';

/**
 * Command-line errors that commander catches itself (unknown option or command, invalid choice or argument, missing
 * argument, a group run without its command) end with `[ECG_ERR_USAGE]` and exit 2, as every other error carries its
 * code; `--help` and `--version` exit 0 with no code. `help <group> <command>` shows the command's help, not the group's.
 */

/** Runs the CLI in process; stderr's first line is commander's error line (the help that follows it is not). */
async function run(argv: readonly string[]): Promise<{ code: number; out: string; err: string; firstErr: string }> {
  const io = fakeIo({ LOG_LEVEL: 'silent' });
  const code = await main(argv, io);
  return { code, out: io.out(), err: io.err(), firstErr: io.err().split('\n')[0]! };
}

describe('commander usage errors carry ECG_ERR_USAGE', () => {
  it.each([
    [['eval', 'beats', '--protocol', 'bogus'], /^error: option '--protocol <name>' argument 'bogus' is invalid\. Allowed choices are .*\. \[ECG_ERR_USAGE\]$/],
    [['bogus'], /^error: unknown command 'bogus' \[ECG_ERR_USAGE\]$/],
    [['--no-such-flag'], /^error: unknown option '--no-such-flag' \[ECG_ERR_USAGE\]$/],
    [['mitdb', 'fetch', '--nope'], /^error: unknown option '--nope' \[ECG_ERR_USAGE\]$/],
    [['bench', 'signal', '--chunk-samples', '0'], /^error: option '--chunk-samples <n>' argument '0' is invalid\. must be a positive integer, got "0" \[ECG_ERR_USAGE\]$/],
    // One set of integer parsers (src/cli/io.ts) for every command's counts, with one wording.
    [['train', '--epochs', '2.5'], /^error: option '--epochs <n>' argument '2.5' is invalid\. must be a positive integer, got "2.5" \[ECG_ERR_USAGE\]$/],
    [['train', '--seed', '-1'], /^error: option '--seed <n>' argument '-1' is invalid\. must be a non-negative integer, got "-1" \[ECG_ERR_USAGE\]$/],
    [['train', '--second-stage', '3,0'], /^error: option '--second-stage <kernels>' argument '3,0' is invalid\. must be a positive integer, got "0" \[ECG_ERR_USAGE\]$/],
    [['train', '--second-stage', ' , '], /^error: option '--second-stage <kernels>' argument ' , ' is invalid\. expected kernel sizes such as 3,5,7, got " , " \[ECG_ERR_USAGE\]$/],
    [['eval', 'qrs', '--from', ''], /^error: option '--from <seconds>' argument '' is invalid\. must be a number >= 0, got "" \[ECG_ERR_USAGE\]$/],
    [['eval', 'qrs', '--match-window-ms', '0'], /^error: option '--match-window-ms <ms>' argument '0' is invalid\. must be a positive number, got "0" \[ECG_ERR_USAGE\]$/],
    [['mitdb', 'fetch', '--concurrency', '0'], /^error: option '--concurrency <n>' argument '0' is invalid\. must be a positive integer, got "0" \[ECG_ERR_USAGE\]$/],
    [['serve', '--speed', '-1'], /^error: option '--speed <factor>' argument '-1' is invalid\. must be a number >= 0, got "-1" \[ECG_ERR_USAGE\]$/],
    [['serve', '--from-s', 'x'], /^error: option '--from-s <seconds>' argument 'x' is invalid\. must be a non-negative integer, got "x" \[ECG_ERR_USAGE\]$/],
    [['eval', 'qrs', '--records'], /^error: option '--records <list>' argument missing \[ECG_ERR_USAGE\]$/],
    // One --records parser (src/cli/io.ts recordsOption) for every command: no empty list, no path in a name.
    [['eval', 'qrs', '--records', ' , '], /^error: option '--records <list>' argument ' , ' is invalid\. must be 'all' or comma-separated record names, got " , " \[ECG_ERR_USAGE\]$/],
    [['dataset', 'build', '--records', '../100'], /^error: option '--records <list>' argument '\.\.\/100' is invalid\. must be 'all' or comma-separated record names, got "\.\.\/100" \[ECG_ERR_USAGE\]$/],
    [['bench', 'signal', '--records', '100,a b'], /^error: option '--records <list>' argument '100,a b' is invalid\. must be 'all' or comma-separated record names/],
    [['eval', 'beats', '--dir', '.', '--records', 'p00/../../x'], /^error: option '--records <list>' argument 'p00\/\.\.\/\.\.\/x' is invalid\./],
    [['eval', 'beats', '--dir', '.', '--records', '/etc/x'], /^error: option '--records <list>' argument '\/etc\/x' is invalid\./],
    [['serve', 'extra'], /^error: too many arguments for 'serve'\. .* \[ECG_ERR_USAGE\]$/],
    [['eval', 'bogus'], /^error: unknown command 'bogus' \[ECG_ERR_USAGE\]$/],
  ])('%j: exit 2, the error line ends with the code, nothing on stdout', async (argv, line) => {
    const r = await run(argv);
    expect(r.code, r.err).toBe(2);
    expect(r.firstErr).toMatch(line);
    expect(r.out).toBe('');
  });

  it("a suggestion line (Did you mean ...?) stays commander's; the code ends the message", async () => {
    const r = await run(['evl']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: unknown command 'evl'\n\(Did you mean eval\?\) \[ECG_ERR_USAGE\]\n/);
  });

  it('a group without its command prints its help on stderr and ends with a coded error line, exit 2', async () => {
    const r = await run(['eval']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^Usage: ecg-monitor eval /);
    expect(r.err.endsWith('error: missing command [ECG_ERR_USAGE]\n')).toBe(true);
    const root = await run([]);
    expect(root.code).toBe(2);
    expect(root.err.endsWith('error: missing command [ECG_ERR_USAGE]\n')).toBe(true);
  });

  it('--help and --version exit 0 and print no code', async () => {
    for (const argv of [['--help'], ['eval', '--help'], ['eval', 'beats', '--help'], ['--version'], ['help']]) {
      const r = await run(argv);
      expect([argv, r.code]).toEqual([argv, 0]);
      expect(r.out).not.toBe('');
      expect(r.out + r.err).not.toContain('ECG_ERR');
    }
  });

  it('withUsageCode puts the code at the end of the message, once', () => {
    expect(withUsageCode("error: unknown option '--x'\n")).toBe("error: unknown option '--x' [ECG_ERR_USAGE]\n");
    expect(withUsageCode('error: a')).toBe('error: a [ECG_ERR_USAGE]\n');
  });
});

describe('help <command> <subcommand>', () => {
  it('`help eval beats` and `eval help beats` print the help of eval beats, exit 0', async () => {
    const direct = await run(['eval', 'beats', '--help']);
    expect(direct.out).toMatch(/^Usage: ecg-monitor eval beats /);
    for (const argv of [['help', 'eval', 'beats'], ['eval', 'help', 'beats']]) {
      const r = await run(argv);
      expect([argv, r.code]).toEqual([argv, 0]);
      expect(r.out).toBe(direct.out);
    }
    expect((await run(['help', 'eval'])).out).toBe((await run(['eval', '--help'])).out);
    expect((await run(['help'])).out).toBe((await run(['--help'])).out);
  });

  it('`help eval bogus` is an unknown command, exit 2', async () => {
    const r = await run(['help', 'eval', 'bogus']);
    expect(r.code).toBe(2);
    expect(r.firstErr).toBe("error: unknown command 'bogus' [ECG_ERR_USAGE]");
  });

  it('expandHelpCommand rewrites only a help command of a group', () => {
    const io = fakeIo();
    const program = newCommand('p', io).addCommand(newCommand('g', io).addCommand(newCommand('leaf', io).argument('[word]')));
    expect(expandHelpCommand(program, ['help', 'g', 'leaf'])).toEqual(['g', 'leaf', '--help']);
    expect(expandHelpCommand(program, ['g', 'help', 'leaf'])).toEqual(['g', 'leaf', '--help']);
    expect(expandHelpCommand(program, ['help'])).toEqual(['--help']);
    expect(expandHelpCommand(program, ['help', 'g', 'nope', 'x'])).toEqual(['g', 'nope']);
    expect(expandHelpCommand(program, ['g', 'leaf', 'help'])).toEqual(['g', 'leaf', 'help']); // an argument of a leaf
    expect(expandHelpCommand(program, ['help', 'g', '--json'])).toEqual(['help', 'g', '--json']);
    expect(expandHelpCommand(program, ['other', 'help'])).toEqual(['other', 'help']);
  });
});

describe('recordsOption', () => {
  it("takes 'all' or record names, subfolders included, as a RECORDS file lists them", () => {
    expect(recordsOption('all')).toBe('all');
    expect(recordsOption('100, 208,x_1.b')).toEqual(['100', '208', 'x_1.b']);
    expect(recordsOption('p00/p000020/3544749_0001')).toEqual(['p00/p000020/3544749_0001']);
    for (const bad of ['', ',', 'a//b', 'a/', './a', '-a']) expect(() => recordsOption(bad), bad).toThrow(/must be 'all' or comma-separated record names/);
  });
});
