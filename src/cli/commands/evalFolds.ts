import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveModelDir } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { commaList, helpFile, newCommand, type CliIo } from '../io.js';

interface EvalFoldsFlags {
  model?: string;
  json?: string;
  heldOut?: boolean;
}

/** `ecg-monitor eval folds`: the validation results of one recipe's runs on different validation folds, pooled. */
export function evalFoldsCommand(io: CliIo): Command {
  return newCommand('folds', io)
    .description('pool the validation results of runs trained with `train --validation-fold 1..k` (cross-validation, to compare training flags on more than one validation share)')
    .option('--model <list>', 'comma-separated model folders (or names under models/), one per validation fold, all trained with the same flags; with --held-out, A+B+... scores that fold\'s runs as an ensemble')
    .option('--json <file>', 'write the summary (per fold and pooled) as JSON')
    .option('--held-out', "also run each fold's model on its held-out DS1 records, without and with the live monitor's rules after the model (added one by one in the monitor's order), and pool (patient folds only)")
    .addHelpText('after', helpFile('eval-folds'))
    .action(async (flags: EvalFoldsFlags) => {
      const [{ loadManifest }, { formatCrossValidation, poolValidationFolds }] = await Promise.all([
        import('../../model/modelIo.js'), import('../../model/crossValidation.js'),
      ]);
      if (!flags.model) throw new ConfigError('ECG_ERR_USAGE', 'eval folds: --model DIR1,DIR2,... is required (one folder per validation fold)');
      // A fold written A+B+... is an ensemble of that fold's runs: held-out scoring only (a manifest holds one run's figures).
      const folds = await Promise.all(commaList(flags.model).map((entry) => Promise.all(entry.split('+').map(async (name) => {
        const dir = resolveModelDir(name.trim());
        return { dir, manifest: await loadManifest(dir) };
      }))));
      const ensembles = folds.some((members) => members.length > 1);
      if (ensembles && !flags.heldOut) throw new ConfigError('ECG_ERR_USAGE', 'eval folds: a fold given as an ensemble (A+B+...) is scored with --held-out only');
      const runs = folds.map((members) => members[0]);
      const summary = ensembles ? undefined : poolValidationFolds(runs);
      if (summary) io.stdout.write(formatCrossValidation(summary));
      let heldOut: unknown;
      if (flags.heldOut) {
        // TensorFlow.js loads only when models run.
        const [{ initBackend }, { prepareEvaluationInputs }, { formatHeldOutPatients, scoreHeldOutPatients }] = await Promise.all([
          import('../../model/backend.js'), import('../../eval/evaluationInputs.js'), import('../../eval/heldOutPatients.js'),
        ]);
        await initBackend(undefined, io.env);
        const splitSeed = runs[0].manifest.training.splitSeed;
        const inputs = await prepareEvaluationInputs({ protocol: 'inter', positions: 'reference', splitSeed: typeof splitSeed === 'number' ? splitSeed : undefined, env: io.env });
        const scores = await scoreHeldOutPatients(folds, inputs);
        io.stdout.write(formatHeldOutPatients(scores));
        heldOut = scores;
      }
      if (flags.json) {
        await mkdir(dirname(resolve(flags.json)), { recursive: true });
        await writeFile(flags.json, JSON.stringify(heldOut ? { ...summary, heldOut } : summary, null, 2) + '\n');
      }
    });
}
