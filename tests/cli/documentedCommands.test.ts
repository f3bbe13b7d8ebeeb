import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allPaths, helpOf, section } from '../helpers/commandTree.js';

/**
 * Users copy commands out of the README, the model card, its experiment log and models/train.sh: each command those files name must
 * exist, with only options its `--help` lists (a renamed or removed flag fails here, not in a user's terminal).
 */

const documents = ['README.md', 'models/README.md', 'models/EXPERIMENTS.md', 'models/train.sh'];

/** Shell variables of the docs that hold `train` flags (the experiment log's FLAGS=..., train.sh's INTER=...). */
const trainFlagVariable = /^(?:FLAGS|INTER|INTER_NORR|INTRA_QUOTA)="([^"]*)"/;

interface CommandTree {
  paths: string[][];
  options: Map<string, Set<string>>;
}

async function commandTree(): Promise<CommandTree> {
  const paths = await allPaths();
  const options = new Map<string, Set<string>>();
  for (const path of paths) {
    const flags = section(await helpOf(path), 'Options').flatMap((line) => [...line.matchAll(/^ {2}(?:-\w, )?--([a-z][\w-]*)/g)].map((m) => m[1]!));
    options.set(path.join(' '), new Set([...flags, 'help']));
  }
  return { paths, options };
}

/** The command invocations a document's line holds, as words (`eval beats --model x`), wherever it can tell. */
function invocations(line: string, shellScript: boolean): string[] {
  const found: string[] = [];
  // `npm run ecg-monitor -- <command>` passes what follows its `--` on; a shell comment (#) ends the command.
  for (const m of line.matchAll(/(?:ecg-monitor|dist\/src\/cli\/main\.js)\s+(?:--\s+)?([^`|;&)#]*)/g)) found.push(m[1]!);
  // Inline code that starts like a command: `train --teacher DIR,... --distill-weight a`.
  for (const m of line.matchAll(/`([a-z][^`]*--[^`]*)`/g)) found.push(m[1]!);
  const variable = trainFlagVariable.exec(line);
  if (variable) found.push(`train ${variable[1]!}`);
  const run = /^\s*run \S+\s+(.*)$/.exec(line);
  if (run && shellScript) found.push(`train ${run[1]!}`);
  return found;
}

/** The command the words name and the options it does not have; undefined when they name no command (prose). */
function unknownOptions(words: string, tree: CommandTree): { command: string; unknown: string[] } | undefined {
  const tokens = words.trim().split(/\s+/);
  const path: string[] = [];
  while (tokens.length > 0 && tree.paths.some((p) => p.join(' ') === [...path, tokens[0]].join(' '))) path.push(tokens.shift()!);
  if (path.length === 0) return undefined; // e.g. the title "ecg-monitor — a streaming ..."
  const known = tree.options.get(path.join(' '))!;
  const unknown = tokens.filter((t) => /^--[a-z]/.test(t)).map((t) => t.slice(2).split('=')[0]!).filter((o) => !known.has(o));
  return { command: path.join(' '), unknown };
}

function problemsOf(text: string, shellScript: boolean, tree: CommandTree): { checked: number; problems: string[] } {
  let checked = 0;
  const problems: string[] = [];
  text.split('\n').forEach((line, index) => {
    for (const words of invocations(line, shellScript)) {
      const verdict = unknownOptions(words, tree);
      if (verdict === undefined) continue;
      checked++;
      if (verdict.unknown.length > 0) problems.push(`line ${index + 1}: ${verdict.command} has no --${verdict.unknown.join(', --')}`);
    }
  });
  return { checked, problems };
}

describe('commands named in the docs', async () => {
  const tree = await commandTree();

  it.each(documents)('%s names only commands and options that exist', (file) => {
    const { checked, problems } = problemsOf(readFileSync(file, 'utf8'), file.endsWith('.sh'), tree);
    expect(problems).toEqual([]);
    expect(checked).toBeGreaterThan(file.startsWith('models/') && file.endsWith('.md') ? 20 : 5);
  });

  it('a flag a command does not have is reported, in each form the docs use', () => {
    const doc = [
      'ecg-monitor eval beats --model mshan-inter --bogus-flag',
      'see `train --teacher DIR --distill-wait 1`',
      'FLAGS="--model mshan --protocl inter"',
      'npm run ecg-monitor -- serve --no-such-gate',
    ].join('\n');
    expect(problemsOf(doc, false, tree).problems).toEqual([
      'line 1: eval beats has no --bogus-flag',
      'line 2: train has no --distill-wait',
      'line 3: train has no --protocl',
      'line 4: serve has no --no-such-gate',
    ]);
    expect(problemsOf('  run cnn-inter --model cnn --epoch 2', true, tree).problems).toEqual(['line 1: train has no --epoch']);
    // What follows a shell comment is prose.
    expect(problemsOf('ecg-monitor serve --record 100   # unlike --no-such-flag', false, tree)).toEqual({ checked: 1, problems: [] });
  });
});
