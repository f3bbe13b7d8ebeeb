/**
 * Patient-wise cross-validation, scored by running the models: each fold's model (`train --validation records
 * --validation-fold k`) classifies the DS1 records held out of its training through {@link evaluateBeats} — the code
 * of `eval beats` — and the folds' confusion matrices are summed. The manifests' validation figures (`eval folds`)
 * are per beat and without the rules that need whole records in time order; this gives the out-of-sample figures of
 * the live monitor's rules after the model on patients the models never saw, with and without
 * them, without looking at DS2.
 */
import { splitBeats } from '../dataset/splits.js';
import { ConfigError } from '../errors.js';
import type { BeatDataset } from '../model/dataset.js';
import type { ModelManifest, SplitMetrics } from '../model/modelIo.js';
import { loadClassifier, type Classifier } from '../model/predict.js';
import { macroClassesFor, metricsFromConfusion } from '../model/train.js';
import { RULE_NAMES, type MonitorRules, type RuleName } from '../pipeline/rulesAfterModel.js';
import { BEAT_CLASSES } from '../types.js';
import { evaluateBeats, type BeatsEvaluation } from './beatsEvaluation.js';
import { bootstrapGross, formatGrossIntervals, type GrossBootstrap } from './bootstrap.js';
import type { ConfusionMatrix } from './ec57.js';

/** A fold's run: one model folder with its manifest. */
export interface FoldRun {
  dir: string;
  manifest: ModelManifest;
}

export interface HeldOutFold {
  /** The model folder; for an ensemble, its members' folders joined by `+`. */
  dir: string;
  fold: number;
  records: string[];
  beats: number;
  /** Beats whose class the rules changed (0 for the model alone). */
  changed: number;
}

export interface HeldOutPatientsScore {
  rules: MonitorRules;
  folds: HeldOutFold[];
  /** Metrics of the folds' summed per-beat confusion matrices. */
  pooled: SplitMetrics;
  /** 95 % intervals over the held-out patients of the EC57 gross figures (rows with rules; their records pooled). */
  bootstrap?: GrossBootstrap;
  /** Rows with rules: each held-out record's EC57 matrix (literature map), for paired comparisons of recipes. */
  perRecord?: { record: string; matrix: ConfusionMatrix }[];
}

/** The rows of a held-out scoring: the model alone, then the rules added one by one in the monitor's order (the last row is the live monitor). */
export const HELD_OUT_RULES: readonly MonitorRules[] = Array.from({ length: RULE_NAMES.length + 1 }, (_, rulesOn) =>
  Object.fromEntries(RULE_NAMES.map((rule, k) => [rule, k < rulesOn])) as MonitorRules);

/** The row of HELD_OUT_RULES that runs the live monitor's rules. */
export const LIVE_MONITOR_ROW = RULE_NAMES.length;

/**
 * Scores every run on its own held-out records (see the module comment), once per set of {@link HELD_OUT_RULES}, in
 * that order. Runs must be inter-patient, validated by records, each with its fold; the dataset must be the MIT-BIH
 * reference-position dataset they were split from. A fold given as several runs of that fold is scored as their
 * ensemble (the mean of their probabilities, as `eval beats --model A,B`). Each model is loaded once and runs once
 * per row with rules (the model-alone row comes with the AF gate's evaluation).
 */
export async function scoreHeldOutPatients(
  runs: readonly (FoldRun | readonly FoldRun[])[], inputs: { dataset: BeatDataset; dir: string },
): Promise<HeldOutPatientsScore[]> {
  const { dataset } = inputs;
  const beats = dataset.record.map((record, i) => ({ record, symbol: dataset.symbol[i] }));
  const confusions = HELD_OUT_RULES.map(() => BEAT_CLASSES.map(() => BEAT_CLASSES.map(() => 0)));
  const folds: HeldOutFold[][] = HELD_OUT_RULES.map(() => []);
  const perRecord: { record: string; matrix: ConfusionMatrix }[][] = HELD_OUT_RULES.map(() => []);
  const foldOf = ({ dir, manifest }: FoldRun) => {
    const t = manifest.training as { interValidation?: string; validationFold?: number | null; splitSeed?: number };
    if (manifest.protocol !== 'inter' || t.interValidation !== 'records' || typeof t.validationFold !== 'number') {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `${dir}: scoring held-out patients needs an inter-patient run validated on a fold of DS1 records (train --validation records --validation-fold K)`);
    }
    return { fold: t.validationFold, splitSeed: t.splitSeed };
  };
  for (const run of runs) {
    const members: readonly FoldRun[] = 'dir' in run ? [run] : run;
    const dir = members.map((m) => m.dir).join('+');
    const { fold, splitSeed } = foldOf(members[0]);
    for (const member of members.slice(1)) {
      const other = foldOf(member);
      if (other.fold !== fold || other.splitSeed !== splitSeed) {
        throw new ConfigError('ECG_ERR_BAD_OPTION', `${dir}: an ensemble's runs must share their fold of held-out records (${members[0].dir}: fold ${fold}, ${member.dir}: fold ${other.fold})`);
      }
    }
    const split = splitBeats(beats, 'inter', { interValidation: 'records', validationFold: fold, ...(splitSeed === undefined ? {} : { seed: splitSeed }) });
    const records = [...new Set(split.validation.map((i) => dataset.record[i]))].sort();
    const classifiers: Classifier[] = [];
    try {
      for (const member of members) classifiers.push(await loadClassifier(member.dir));
      const classifier = classifiers.length === 1 ? classifiers[0] : classifiers;
      const test = { kind: 'records', records } as const;
      const evaluations: BeatsEvaluation[] = [];
      for (const rules of HELD_OUT_RULES.slice(1)) evaluations.push(await evaluateBeats({ classifier, dataset, dir: inputs.dir, test, ...rules }));
      evaluations.forEach((e, k) => perRecord[k + 1].push(...(e.ec57?.perRecord ?? [])));
      const rows = [
        { classification: evaluations[0].modelAlone?.classification, changed: 0 },
        ...evaluations.map((e) => ({ classification: e.classification, changed: Object.values(e.ruleChanges ?? {}).reduce((a, b) => a + b, 0) })),
      ];
      rows.forEach(({ classification, changed }, k) => {
        classification!.confusion.forEach((row, r) => row.forEach((n, c) => (confusions[k][r][c] += n)));
        folds[k].push({ dir, fold, records, beats: evaluations[0].beats, changed });
      });
    } finally {
      classifiers.forEach((c) => c.model.dispose());
    }
  }
  return HELD_OUT_RULES.map((rules, k) => ({
    rules, folds: folds[k], pooled: metricsFromConfusion(confusions[k], BEAT_CLASSES, macroClassesFor(BEAT_CLASSES)),
    ...(perRecord[k].length > 1 ? { bootstrap: bootstrapGross(perRecord[k].map((r) => r.matrix)), perRecord: perRecord[k] } : {}),
  }));
}

const RULE_LABELS: Record<RuleName, string> = { afGate: 'AF', templateGate: 'template', timingGate: 'timing', pWaveGate: 'P wave', qrsGate: 'QRS', atrialRunGate: 'atrial run', morphologyVote: 'vote' };

/** The pooled figures of each set of rules, one line each, as a text table. */
export function formatHeldOutPatients(scores: readonly HeldOutPatientsScore[]): string {
  const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : (v * 100).toFixed(2));
  const labelOf = (s: HeldOutPatientsScore) => RULE_NAMES.filter((rule) => s.rules[rule]).map((rule) => RULE_LABELS[rule]).join(' + ') || 'none';
  const width = Math.max(40, ...scores.map((s) => labelOf(s).length + 2));
  const lines = ['', `held-out patients, each fold's model on its own held-out records (${scores[0]?.folds.map((f) => f.records.join(' ')).join('; ')}), pooled:`];
  lines.push(`${'gates after the model'.padEnd(width)}${'beats'.padStart(8)}${'changed'.padStart(9)}${'accuracy'.padStart(10)}${'macro F1'.padStart(10)}   ${['N', 'S', 'V', 'F'].map((c) => `${c} Se / +P`.padEnd(16)).join('')}`);
  for (const s of scores) {
    const p = s.pooled;
    lines.push(`${labelOf(s).padEnd(width)}${String(p.count).padStart(8)}${String(s.folds.reduce((n, f) => n + f.changed, 0)).padStart(9)}${pct(p.accuracy).padStart(10)}${p.macroF1.toFixed(4).padStart(10)}   ${['N', 'S', 'V', 'F'].map((c) => `${pct(p.perClass[c]?.se)} / ${pct(p.perClass[c]?.ppv)}`.padEnd(16)).join('')}`);
  }
  // The live monitor's row: how much its EC57 figures depend on which patients were held out.
  const b = scores[LIVE_MONITOR_ROW]?.bootstrap;
  if (b) {
    lines.push(`the live monitor's rules, EC57 gross (literature map), ${Math.round(b.level * 100)} % intervals over the ${b.records} held-out patients (${b.iterations} draws): ${formatGrossIntervals(b)}`);
  }
  return lines.join('\n') + '\n';
}
