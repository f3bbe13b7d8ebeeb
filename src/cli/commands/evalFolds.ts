import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveModelDir } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { commaList, helpFile, newCommand, type CliIo } from '../io.js';

interface EvalFoldsFlags {
  model?: string;
  json?: string;
}

/** `ecg-monitor eval folds`: the validation results of one recipe's runs on different validation folds, pooled. */
export function evalFoldsCommand(io: CliIo): Command {
  return newCommand('folds', io)
    .description('pool the validation results of runs trained with `train --validation-fold 1..k` (cross-validation, to compare training flags on more than one validation share)')
    .option('--model <list>', 'comma-separated model folders (or names under models/), one per validation fold, all trained with the same flags')
    .option('--json <file>', 'write the summary (per fold and pooled) as JSON')
    .addHelpText('after', helpFile('eval-folds'))
    .action(async (flags: EvalFoldsFlags) => {
      const [{ loadManifest }, { formatCrossValidation, poolValidationFolds }] = await Promise.all([
        import('../../model/modelIo.js'), import('../../model/crossValidation.js'),
      ]);
      if (!flags.model) throw new ConfigError('ECG_ERR_USAGE', 'eval folds: --model DIR1,DIR2,... is required (one folder per validation fold)');
      const dirs = commaList(flags.model).map((name) => resolveModelDir(name));
      const runs = await Promise.all(dirs.map(async (dir) => ({ dir, manifest: await loadManifest(dir) })));
      const summary = poolValidationFolds(runs);
      io.stdout.write(formatCrossValidation(summary));
      if (flags.json) {
        await mkdir(dirname(resolve(flags.json)), { recursive: true });
        await writeFile(flags.json, JSON.stringify(summary, null, 2) + '\n');
      }
    });
}
