import { main } from '../../src/cli/main.js';
import { fakeIo } from './fakeIo.js';

/** The `--help` text of a command path ([] for the top level), run in process. */
export async function helpOf(path: readonly string[]): Promise<string> {
  const io = fakeIo({ MITDB_DIR: '/data/mitdb' });
  const code = await main([...path, '--help'], io);
  if (code !== 0) throw new Error(`${path.join(' ')} --help exited ${code}: ${io.err()}`);
  return io.out();
}

/** The lines of a help text's section (`Options:`, `Commands:`), up to the blank line that ends it. */
export function section(help: string, title: string): string[] {
  const lines = help.split('\n');
  const start = lines.indexOf(`${title}:`);
  if (start < 0) return [];
  const end = lines.findIndex((l, i) => i > start && l.trim() === '');
  return lines.slice(start + 1, end < 0 ? undefined : end);
}

/** Every command path: [], ['serve'], ['mitdb'], ['mitdb', 'fetch'], ... */
export async function allPaths(): Promise<string[][]> {
  const paths: string[][] = [[]];
  for (let i = 0; i < paths.length; i++) {
    for (const line of section(await helpOf(paths[i]!), 'Commands')) {
      const name = /^ {2}(\S+)/.exec(line)?.[1];
      if (name !== undefined && name !== 'help') paths.push([...paths[i]!, name]);
    }
  }
  return paths;
}
