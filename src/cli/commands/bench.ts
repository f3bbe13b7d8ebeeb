import type { Command } from 'commander';
import { newCommand, type CliIo } from '../io.js';

/** `ecg-monitor bench <signal|classify|all>`: speed and memory benchmarks; a table on stdout, JSON with --json. */
export function benchCommand(io: CliIo): Command {
  return newCommand('bench', io).description('speed and memory benchmarks (table on stdout, --json FILE for machines)');
}
