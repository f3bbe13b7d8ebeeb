import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { newCommand, type CliIo } from '../io.js';
import { benchSignalCommand, signalBenchSuite } from './benchSignal.js';

/**
 * A benchmark that `bench <name>` and `bench all` run. Other benchmarks (e.g. `bench classify`) plug in by passing
 * their suite to {@link benchCommand} (in main.ts: `benchCommand(io, [...DEFAULT_BENCH_SUITES, classifyBenchSuite])`).
 */
export interface BenchSuite<Flags = Record<string, unknown>, Result = unknown> {
  /** Subcommand name, also the key of its result in `bench all --json`. */
  name: string;
  description: string;
  /** Adds the suite's own flags (with defaults) to its subcommand; `bench all` runs every suite with defaults. */
  addOptions: (cmd: Command) => Command;
  run: (flags: Flags, io: CliIo) => Promise<Result>;
  /** Human-readable table of a result. */
  table: (result: Result) => string;
  /** Help text printed after the subcommand's options (`\nExample:\n  ecg-monitor bench NAME ...\n`). */
  helpAfter?: string;
}

/** The suites `bench all` runs when main.ts passes none. */
export const DEFAULT_BENCH_SUITES: readonly BenchSuite<any, any>[] = [signalBenchSuite];

const addJson = (cmd: Command): Command => cmd.option('--json <file>', 'also write the result as JSON to FILE');

/**
 * `ecg-monitor bench <signal|...|all>`: speed and memory benchmarks; a table on stdout, JSON with --json.
 * @param suites benchmarks to offer as subcommands, run in this order by `bench all`
 */
export function benchCommand(io: CliIo, suites: readonly BenchSuite<any, any>[] = DEFAULT_BENCH_SUITES): Command {
  const write = async (result: unknown, table: string, json?: string): Promise<void> => {
    io.stdout.write(table);
    if (json !== undefined) await writeFile(json, `${JSON.stringify(result, null, 2)}\n`);
  };
  const bench = newCommand('bench', io)
    .description('speed and memory benchmarks (table on stdout, --json FILE for machines)')
    .addHelpText(
      'after',
      '\nExamples:\n  ecg-monitor bench all --json bench-results.json   # every benchmark, as `npm run bench`\n  ecg-monitor bench signal --records 100,208\n  ecg-monitor bench signal --help                   # a benchmark\'s own flags\n',
    );
  for (const suite of suites) {
    if (suite === signalBenchSuite) {
      bench.addCommand(benchSignalCommand(io, addJson, write));
      continue;
    }
    const cmd = addJson(suite.addOptions(newCommand(suite.name, io).description(suite.description)));
    if (suite.helpAfter !== undefined) cmd.addHelpText('after', suite.helpAfter);
    cmd.action(async (flags: Record<string, unknown> & { json?: string }) => {
      const result = await suite.run(flags, io);
      await write(result, suite.table(result), flags.json);
    });
    bench.addCommand(cmd);
  }
  const all = addJson(newCommand('all', io).description(`run every benchmark with its defaults (${suites.map((s) => s.name).join(', ')})`)).addHelpText(
    'after',
    '\nExample:\n  ecg-monitor bench all --json bench-results.json   # tables on stdout, every result under its name in the JSON\n',
  );
  all.action(async (flags: { json?: string }) => {
    const results: Record<string, unknown> = {};
    let tables = '';
    for (const suite of suites) {
      // Defaults of the suite's own flags, as its subcommand would parse them with no arguments.
      const defaults = suite.addOptions(newCommand(suite.name, io)).opts();
      const result = await suite.run(defaults, io);
      results[suite.name] = result;
      tables += suite.table(result);
    }
    await write(results, tables, flags.json);
  });
  bench.addCommand(all);
  return bench;
}
