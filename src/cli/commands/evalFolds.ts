import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { resolveModelDir } from '../../config.js';
import { ConfigError } from '../../errors.js';
import type { PairedBootstrap } from '../../eval/bootstrap.js';
import { commaList, helpFile, newCommand, type CliIo } from '../io.js';

interface EvalFoldsFlags {
  model?: string;
  json?: string;
  heldOut?: boolean;
  against?: string;
}

/** `ecg-monitor eval folds`: the validation results of one recipe's runs on different validation folds, pooled. */
export function evalFoldsCommand(io: CliIo): Command {
  return newCommand('folds', io)
    .description('pool the validation results of runs trained with `train --validation-fold 1..k` (cross-validation, to compare training flags on more than one validation share)')
    .option('--model <list>', 'comma-separated model folders (or names under models/), one per validation fold, all trained with the same flags; with --held-out, A+B+... scores that fold\'s runs as an ensemble')
    .option('--json <file>', 'write the summary (per fold and pooled) as JSON')
    .option('--held-out', "also run each fold's model on its held-out DS1 records, without and with the live monitor's rules after the model (added one by one in the monitor's order), and pool (patient folds only)")
    .option('--against <list>', "with --held-out: another recipe's runs, one per fold as --model (A+B+... an ensemble), scored the same way; prints paired 95 % intervals over the held-out patients of the difference in the live monitor's EC57 gross figures")
    .addHelpText('after', helpFile('eval-folds'))
    .action(async (flags: EvalFoldsFlags) => {
      const [{ loadManifest }, { formatCrossValidation, poolValidationFolds }] = await Promise.all([
        import('../../model/modelIo.js'), import('../../model/crossValidation.js'),
      ]);
      if (!flags.model) throw new ConfigError('ECG_ERR_USAGE', 'eval folds: --model DIR1,DIR2,... is required (one folder per validation fold)');
      // A fold written A+B+... is an ensemble of that fold's runs: held-out scoring only (a manifest holds one run's figures).
      const foldRuns = (list: string) => Promise.all(commaList(list).map((entry) => Promise.all(entry.split('+').map(async (name) => {
        const dir = resolveModelDir(name.trim());
        return { dir, manifest: await loadManifest(dir) };
      }))));
      const folds = await foldRuns(flags.model);
      const ensembles = folds.some((members) => members.length > 1);
      if (ensembles && !flags.heldOut) throw new ConfigError('ECG_ERR_USAGE', 'eval folds: a fold given as an ensemble (A+B+...) is scored with --held-out only');
      if (flags.against && !flags.heldOut) throw new ConfigError('ECG_ERR_USAGE', 'eval folds: --against compares held-out scores, so it needs --held-out');
      const againstFolds = flags.against ? await foldRuns(flags.against) : undefined;
      const runs = folds.map((members) => members[0]);
      const summary = ensembles ? undefined : poolValidationFolds(runs);
      if (summary) io.stdout.write(formatCrossValidation(summary));
      let heldOut: unknown;
      let comparison: (PairedBootstrap & { against: string }) | undefined;
      if (flags.heldOut) {
        // TensorFlow.js loads only when models run.
        const [{ initBackend }, { prepareEvaluationInputs }, { formatHeldOutPatients, LIVE_MONITOR_ROW, scoreHeldOutPatients }] = await Promise.all([
          import('../../model/backend.js'), import('../../eval/evaluationInputs.js'), import('../../eval/heldOutPatients.js'),
        ]);
        await initBackend(undefined, io.env);
        const splitSeed = runs[0].manifest.training.splitSeed;
        const inputs = await prepareEvaluationInputs({ protocol: 'inter', positions: 'reference', splitSeed: typeof splitSeed === 'number' ? splitSeed : undefined, env: io.env });
        const scores = await scoreHeldOutPatients(folds, inputs);
        io.stdout.write(formatHeldOutPatients(scores));
        heldOut = scores;
        if (againstFolds) {
          const { formatComparison, pairedBootstrapGross } = await import('../../eval/bootstrap.js');
          const other = await scoreHeldOutPatients(againstFolds, inputs);
          // The live monitor's rows (its default rules), record by record.
          const mine = scores[LIVE_MONITOR_ROW].perRecord ?? [], theirs = new Map((other[LIVE_MONITOR_ROW].perRecord ?? []).map((r) => [r.record, r.matrix]));
          if (mine.length < 2 || mine.length !== theirs.size || mine.some((r) => !theirs.has(r.record))) {
            throw new ConfigError('ECG_ERR_BAD_OPTION', 'eval folds --against: both recipes must hold out the same records (the same patient folds), two or more');
          }
          comparison = { against: '--against', ...pairedBootstrapGross(mine.map((r) => r.matrix), mine.map((r) => theirs.get(r.record)!)) };
          io.stdout.write(formatComparison('--model', comparison));
        }
      }
      if (flags.json) {
        await mkdir(dirname(resolve(flags.json)), { recursive: true });
        await writeFile(flags.json, JSON.stringify(heldOut ? { ...summary, heldOut, ...(comparison ? { comparison } : {}) } : summary, null, 2) + '\n');
      }
    });
}
