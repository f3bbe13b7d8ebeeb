/**
 * Cross-validation by validation folds: runs of one recipe trained with `train --validation-fold 1..k` differ only in
 * which tenth of the training beats (or, with `--validation records`, which group of DS1 patients) validated them, so
 * their validation confusion matrices can be summed. A pooled figure over k folds rests on k times the validation
 * beats of one run, which is what comparing two recipes needs when one validation share holds a thousand beats and
 * the recipes differ by a handful of them. The test set is the same for every fold and plays no part here.
 */
import { ModelError } from '../errors.js';
import type { ModelManifest, SplitMetrics } from './modelIo.js';
import { macroClassesFor, metricsFromConfusion } from './train.js';

export interface FoldRun {
  dir: string;
  fold: number;
  /** The epoch early stopping kept (for a refit model: its search run's). */
  bestEpoch: number;
  validation: SplitMetrics;
  /** Validation macro F1 after each epoch, as the run's history recorded it (empty for a refit model). */
  macroF1ByEpoch: number[];
}

/** A fixed number of epochs for one fold, chosen on the other folds' validation (see {@link chooseEpochsOnOtherFolds}). */
export interface HeldOutEpochChoice {
  fold: number;
  epochs: number;
  /** This fold's validation macro F1 after that many epochs. */
  macroF1: number;
}

export interface CrossValidationSummary {
  model: string;
  protocol: string;
  classes: string[];
  runs: FoldRun[];
  /** Metrics of the summed validation confusion matrices. */
  pooled: SplitMetrics;
  /** Mean and sample standard deviation of the runs' validation macro F1 (sd 0 for one run). */
  macroF1Mean: number;
  macroF1Sd: number;
  /** Epoch by epoch: each fold's validation macro F1 (null once a run had stopped) and their mean. */
  byEpoch: { epoch: number; macroF1: (number | null)[]; mean: number }[];
  /** Per fold, a training length chosen on the other folds; empty with fewer than two folds or no histories. */
  epochsChosenOnOtherFolds: HeldOutEpochChoice[];
}

const RECIPE_FLAGS = ['size', 'batchSize', 'seed', 'learningRate', 'lrDecay', 'balance', 'classQuota', 'recordBalance', 'augment', 'windowNormalisation', 'patience', 'splitSeed'] as const;

/** What must match for two runs to be folds of one recipe: everything but the validation fold (and epoch counts). */
function recipeOf(m: ModelManifest, except: readonly string[] = []): string {
  const t = m.training;
  return JSON.stringify({
    model: m.model, protocol: m.protocol, classes: m.classes, features: m.input.featureNames, dataset: m.dataset.hash,
    // Validation by beats or by held-out records (manifests from before the field was recorded validated by beats).
    interValidation: t.interValidation ?? (m.protocol === 'inter' ? 'beats' : null),
    // Which epoch's weights the run kept (manifests from before the field was recorded kept the best).
    keep: t.keep ?? 'best',
    ...Object.fromEntries(RECIPE_FLAGS.filter((k) => !except.includes(k)).map((k) => [k, t[k] ?? null])),
  });
}

/**
 * Refuses (ECG_ERR_MODEL) runs that are not retrainings of one recipe: they must match in everything recipeOf
 * compares but the seed, and in validation fold, training length and distillation (teachers' seeds and data, weight).
 */
export function checkRetrainingsOfOneRecipe(runs: readonly { dir: string; manifest: ModelManifest }[]): void {
  const retrainingOf = (m: ModelManifest): string => {
    const t = m.training as { validationFold?: number | null; maxEpochs?: number; distillation?: { weight: number; teachers: { seed?: number; datasetHash?: string }[] } | null };
    const d = t.distillation;
    return recipeOf(m, ['seed']) + JSON.stringify({
      validationFold: t.validationFold ?? null, maxEpochs: t.maxEpochs ?? null,
      distillation: d ? { weight: d.weight, teachers: d.teachers.map((x) => [x.seed ?? null, x.datasetHash ?? null]) } : null,
    });
  };
  const [first] = runs;
  for (const run of runs.slice(1)) {
    if (retrainingOf(run.manifest) !== retrainingOf(first.manifest)) {
      throw new ModelError('ECG_ERR_MODEL', `${run.dir}: trained with other flags, data or protocol than ${first.dir} (not only another seed); only retrainings of one recipe go together`);
    }
  }
}

function foldRunOf(dir: string, m: ModelManifest): FoldRun {
  const t = m.training as { validationFold?: number | null; bestEpoch?: number; refit?: { bestEpoch?: number; validation?: SplitMetrics } | null; history?: { macroF1?: number }[] };
  // A refit model trained on its validation beats too; its search run's validation figures are kept in training.refit.
  const validation = t.refit ? t.refit.validation : m.metrics.validation;
  const bestEpoch = t.refit ? t.refit.bestEpoch : t.bestEpoch;
  if (!validation || validation.count === 0 || bestEpoch === undefined) throw new ModelError('ECG_ERR_MODEL', `${dir}: manifest.json holds no validation metrics`);
  if (t.validationFold === null) throw new ModelError('ECG_ERR_MODEL', `${dir}: validated on the fixed held-out records, not on a fold (train --validation-fold)`);
  const macroF1ByEpoch = t.refit ? [] : (t.history ?? []).map((h) => h.macroF1).filter((f): f is number => typeof f === 'number');
  // Manifests from before folds existed validated on fold 1.
  return { dir, fold: t.validationFold ?? 1, bestEpoch, validation, macroF1ByEpoch };
}

/**
 * How long to train, chosen without the fold it is scored on: for each fold, the number of epochs (among those every
 * run reached) with the best mean validation macro F1 over the *other* folds, and this fold's macro F1 after it. The
 * mean of those is an estimate for "train for the cross-validated number of epochs" that, unlike each run's own best
 * epoch, is not picked on the beats it is scored on.
 */
export function chooseEpochsOnOtherFolds(runs: readonly Pick<FoldRun, 'fold' | 'macroF1ByEpoch'>[]): HeldOutEpochChoice[] {
  const common = Math.min(...runs.map((r) => r.macroF1ByEpoch.length));
  if (runs.length < 2 || common < 1) return [];
  return runs.map((run) => {
    const others = runs.filter((r) => r !== run);
    let best = 1, bestMean = -Infinity;
    for (let e = 1; e <= common; e++) {
      const mean = others.reduce((a, r) => a + r.macroF1ByEpoch[e - 1], 0) / others.length;
      if (mean > bestMean) { bestMean = mean; best = e; }
    }
    return { fold: run.fold, epochs: best, macroF1: run.macroF1ByEpoch[best - 1] };
  });
}

function byEpochOf(runs: readonly FoldRun[]): CrossValidationSummary['byEpoch'] {
  const longest = Math.max(0, ...runs.map((r) => r.macroF1ByEpoch.length));
  return Array.from({ length: longest }, (_, k) => {
    const macroF1 = runs.map((r) => r.macroF1ByEpoch[k] ?? null);
    const present = macroF1.filter((f): f is number => f !== null);
    return { epoch: k + 1, macroF1, mean: present.reduce((a, b) => a + b, 0) / present.length };
  });
}

/**
 * Pools the validation results of runs of one recipe on different validation folds.
 * Refuses (ECG_ERR_MODEL) runs of different recipes, two runs of the same fold, and manifests without validation.
 */
export function poolValidationFolds(runs: readonly { dir: string; manifest: ModelManifest }[]): CrossValidationSummary {
  if (runs.length === 0) throw new ModelError('ECG_ERR_MODEL', 'no run to pool');
  const [first] = runs;
  const recipe = recipeOf(first.manifest);
  for (const run of runs.slice(1)) {
    if (recipeOf(run.manifest) !== recipe) {
      throw new ModelError('ECG_ERR_MODEL', `${run.dir}: trained with other flags, data or protocol than ${first.dir}; only folds of one recipe pool`);
    }
  }
  const foldRuns = runs.map(({ dir, manifest }) => foldRunOf(dir, manifest)).sort((a, b) => a.fold - b.fold);
  for (let i = 1; i < foldRuns.length; i++) {
    if (foldRuns[i].fold === foldRuns[i - 1].fold) throw new ModelError('ECG_ERR_MODEL', `${foldRuns[i - 1].dir} and ${foldRuns[i].dir}: both validated on fold ${foldRuns[i].fold}`);
  }
  const { classes } = first.manifest;
  const summed = classes.map((_, t) => classes.map((__, p) => foldRuns.reduce((a, r) => a + r.validation.confusion[t][p], 0)));
  const f1s = foldRuns.map((r) => r.validation.macroF1);
  const mean = f1s.reduce((a, b) => a + b, 0) / f1s.length;
  const sd = f1s.length > 1 ? Math.sqrt(f1s.reduce((a, b) => a + (b - mean) ** 2, 0) / (f1s.length - 1)) : 0;
  return {
    model: first.manifest.model, protocol: first.manifest.protocol, classes, runs: foldRuns,
    pooled: metricsFromConfusion(summed, classes, macroClassesFor(classes)), macroF1Mean: mean, macroF1Sd: sd,
    byEpoch: byEpochOf(foldRuns), epochsChosenOnOtherFolds: chooseEpochsOnOtherFolds(foldRuns),
  };
}

/** A plain-text table: one line per fold, then the pooled figures. */
export function formatCrossValidation(summary: CrossValidationSummary): string {
  const pct = (x: number) => (100 * x).toFixed(2);
  const lines = [`${summary.model}, protocol ${summary.protocol}: validation by fold`, 'fold  best epoch  beats  accuracy %  macro F1  run'];
  for (const r of summary.runs) {
    lines.push(`${String(r.fold).padStart(4)}  ${String(r.bestEpoch).padStart(10)}  ${String(r.validation.count).padStart(5)}  ${pct(r.validation.accuracy).padStart(10)}  ${r.validation.macroF1.toFixed(4).padStart(8)}  ${r.dir}`);
  }
  const p = summary.pooled;
  lines.push(`pooled over ${summary.runs.length} folds: ${p.count} beats, accuracy ${pct(p.accuracy)} %, macro F1 ${p.macroF1.toFixed(4)} (per fold ${summary.macroF1Mean.toFixed(4)} ± ${summary.macroF1Sd.toFixed(4)})`);
  lines.push(`per class Se/+P %: ${summary.classes.map((c) => `${c} ${pct(p.perClass[c].se)}/${pct(p.perClass[c].ppv)}`).join('  ')}`);
  if (summary.byEpoch.length > 0) {
    lines.push('validation macro F1 by epoch (- once a run had stopped):');
    lines.push(`epoch  ${summary.runs.map((r) => `fold ${r.fold}`.padStart(7)).join('')}     mean`);
    for (const e of summary.byEpoch) {
      lines.push(`${String(e.epoch).padStart(5)}  ${e.macroF1.map((f) => (f === null ? '-' : f.toFixed(4)).padStart(7)).join('')}  ${e.mean.toFixed(4).padStart(7)}`);
    }
  }
  const chosen = summary.epochsChosenOnOtherFolds;
  if (chosen.length > 0) {
    const mean = chosen.reduce((a, c) => a + c.macroF1, 0) / chosen.length;
    lines.push(`epochs chosen on the other folds: ${chosen.map((c) => `fold ${c.fold} ${c.epochs} (${c.macroF1.toFixed(4)})`).join(', ')}; mean macro F1 ${mean.toFixed(4)}`);
  }
  return lines.join('\n') + '\n';
}
