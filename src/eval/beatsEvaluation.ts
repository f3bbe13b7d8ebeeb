import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { groupBy, splitBeats, type Protocol, type ProtocolSplit } from '../dataset/splits.js';
import { ConfigError } from '../errors.js';
import { loadUsualBeats, type BeatDataset } from '../model/dataset.js';
import { argmaxRows, classifyBatch, type Classifier } from '../model/predict.js';
import type { ModelManifest, SplitMetrics } from '../model/modelIo.js';
import { macroClassesFor, metricsFromConfusion } from '../model/train.js';
import { featureColumns, selectColumns, selectRows } from '../pipeline/beatFeatures.js';
import { rrFeaturesFromRow } from '../pipeline/rrFeatures.js';
import { monitorRules, RULE_NAMES, ruleStages, type MonitorRules, type RuleName } from '../pipeline/rulesAfterModel.js';
import { BEAT_CLASSES, type BeatClass, type BeatClassification } from '../types.js';
import { isBeatCode, symbolToCode } from '../wfdb/annotationCodes.js';
import { readAnnotations, writeAnnotations, type Annotation } from '../wfdb/annotations.js';
import { readHeader, type RecordHeader } from '../wfdb/header.js';
import { scoreBeatClasses, summarizeBeatClasses, type BeatClassSummary, formatBxbLine, type BeatClassScore } from './beats.js';
import { bootstrapGross, type GrossBootstrap } from './bootstrap.js';
import type { ConfusionMatrix } from './ec57.js';

/**
 * Which beats a classifier is tested on:
 * - `protocol`: the test split of a protocol (inter: DS2; intra: the random 20 %; seed: the notebook's 20 %);
 * - `records`: every beat of the listed records (end to end on DS2, or any WFDB database with `--dir`).
 */
export type TestSelection = { kind: 'protocol'; protocol: Protocol; splitSeed?: number } | { kind: 'records'; records: readonly string[] };

/**
 * What to score, and how. The rules after the model (one boolean each, named as rulesAfterModel.ts's RULE_NAMES,
 * each default true) are replayed over each test record's beats in time order, as `serve` runs them; they need AAMI
 * classes and whole records, so intra-patient and seed tests are scored without them (a note says so).
 */
export interface EvaluateBeatsOptions extends Partial<MonitorRules> {
  /**
   * The classifier; several (an ensemble, for research) are scored on the mean of their class probabilities, each
   * fed its own features. They must predict the same classes from windows of the same length, and share protocol and
   * split (a member trained on another split may have trained on the test beats).
   */
  classifier: Classifier | readonly Classifier[];
  /** Beats of the database, as `dataset build` stores them (reference or detector positions). */
  dataset: BeatDataset;
  /** Folder of the WFDB records the dataset was built from (for the reference annotations and headers). */
  dir: string;
  test: TestSelection;
  /** Write one `<record>.cls` WFDB annotation file per test record here. */
  outDir?: string;
  /** Reference annotator. Default `atr`. */
  annotator?: string;
}

export interface BeatsEvaluation {
  model: string;
  classes: readonly string[];
  test: TestSelection;
  beats: number;
  /** Beat-level metrics over test beats whose reference class is known (protocol classes; macro F1 over N S V F for AAMI). */
  classification?: SplitMetrics;
  /** Seed protocol: the same on test beats that do not also occur in training. */
  classificationLeakFree?: SplitMetrics;
  /** EC57, beats matched to the reference annotations as bxb matches them: literature map (headline) and bxb's map. */
  ec57?: {
    aami: BeatClassSummary; bxb: BeatClassSummary; perRecordBxbLines: string[];
    /** Literature map: 95 % intervals of the gross VEB and SVEB figures over patients (whole test records, two or more). */
    bootstrap?: GrossBootstrap;
    /** Literature map: each test record's bxb matrix, in `records` order (for paired comparisons of models). */
    perRecord: { record: string; matrix: ConfusionMatrix }[];
  };
  /** Notes on how the figures were made, for the reader of the JSON. */
  notes: string[];
  /** Beats whose class each rule after the model changed, for the rules that ran. */
  ruleChanges?: Partial<RuleChanges>;
  /**
   * The model's own classes, scored the same way before the rules changed any (per beat, and EC57 under the
   * literature's map); present when the rules ran. The same probabilities: the model does not run twice.
   */
  modelAlone?: { classification?: SplitMetrics; ec57?: BeatClassSummary };
}

/** Beat code written for each predicted AAMI class (bxb reads S as `A`, the atrial premature beat). */
const CLASS_CODE: Record<BeatClass, number> = { N: symbolToCode('N'), S: symbolToCode('A'), V: symbolToCode('V'), F: symbolToCode('F'), Q: symbolToCode('Q') };

/**
 * Classifies the test beats and scores them two ways: per beat against the dataset's labels (the protocol's classes),
 * and, for AAMI models, EC57-style against the reference annotation files through bxb's own matching (src/eval/beats.ts),
 * under the literature's class map (headline) and bxb's (cross-check).
 *
 * For a whole-record test set (inter-patient, end to end, `--dir`) the reference is the full annotation file, so the
 * written `.cls` files give the same figures in PhysioNet's bxb. For the intra-patient split only a fifth of each
 * record's beats are test beats, so the reference is restricted to those beats (non-beat annotations kept); bxb run on
 * the full `.atr` would count the training beats as missed.
 */
export async function evaluateBeats(options: EvaluateBeatsOptions): Promise<BeatsEvaluation> {
  const { dataset, dir, test, outDir, annotator = 'atr' } = options;
  const members = ([] as readonly Classifier[]).concat(options.classifier);
  if (members.length === 0) throw new ConfigError('ECG_ERR_BAD_OPTION', 'evaluateBeats: no classifier');
  const classes = members[0].manifest.classes;
  const notes: string[] = [];
  const L = dataset.windowLength;
  const F = dataset.featureCount;
  const trainedOn = (m: ModelManifest) => `${m.protocol}, split seed ${String(m.training.splitSeed)}`;
  for (const { manifest } of members) {
    if (L !== manifest.input.windowLength) {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `dataset windows are ${L} samples, model ${manifest.name} expects ${manifest.input.windowLength}`);
    }
  }
  // An ensemble's other members against the first.
  for (const { manifest } of members.slice(1)) {
    if (manifest.classes.join() !== classes.join()) {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `an ensemble needs the same classes: ${manifest.name} predicts ${manifest.classes.join(' ')}, ${members[0].manifest.name} ${classes.join(' ')}`);
    }
    if (trainedOn(manifest) !== trainedOn(members[0].manifest)) {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `an ensemble's models must share protocol and split: ${members[0].manifest.name} is ${trainedOn(members[0].manifest)}, ${manifest.name} ${trainedOn(manifest)}`);
    }
  }
  const columnsOf = (c: Classifier) => featureColumns(dataset.featureNames, c.manifest.input.usesRr ? c.manifest.input.featureNames : [], `${dataset.dir}`);
  const memberColumns = members.map(columnsOf);
  if (members.length > 1) notes.push(`ensemble of ${members.length} models: each beat takes the class of the mean of their probabilities`);

  let split: ProtocolSplit | undefined;
  let testIndices: number[];
  if (test.kind === 'protocol') {
    split = splitBeats(dataset.record.map((record, i) => ({ record, symbol: dataset.symbol[i] })), test.protocol, test.splitSeed === undefined ? {} : { seed: test.splitSeed });
    if (split.classes.join() !== classes.join()) {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `protocol ${test.protocol} has classes ${split.classes.join(' ')}, the model predicts ${classes.join(' ')}`);
    }
    testIndices = split.test;
  } else {
    const wanted = new Set(test.records);
    testIndices = [];
    for (let i = 0; i < dataset.count; i++) if (wanted.has(dataset.record[i])) testIndices.push(i);
  }

  // Classify the test beats (duplicates of the seed protocol's resampling classified once each).
  const unique = [...new Set(testIndices)].sort((a, b) => a - b);
  const windows = selectRows(dataset.windows, L, unique);
  const rows = selectRows(dataset.features, F, unique);
  // Models trained with --usual-beat also get each beat's usual beat, as the dataset builder's stream made it.
  const usualBeats = members.some((member) => member.manifest.input.usualBeat)
    ? selectRows(dataset.usualBeats ?? (await loadUsualBeats(dataset)), L, unique)
    : undefined;
  // Each model gets its own features, by name; an ensemble averages the probabilities.
  const probabilities = new Float32Array(unique.length * classes.length);
  members.forEach((member, m) => {
    const p = classifyBatch(member, windows, selectColumns(rows, F, memberColumns[m]), { batchSize: 256, usualBeats });
    for (let j = 0; j < p.length; j++) probabilities[j] += p[j] / members.length;
  });
  const predictedRows = argmaxRows(probabilities, classes.length);
  const predicted = new Map<number, number>();
  unique.forEach((i, k) => predicted.set(i, predictedRows[k]));

  const aamiModel = classes.join('') === BEAT_CLASSES.join('');
  const wholeRecords = !(test.kind === 'protocol' && test.protocol !== 'inter');
  const byRecord = groupBy(unique, (i) => dataset.record[i]);
  const records = [...byRecord.keys()].sort();
  // Headers are read once, by the rules or by EC57, whichever needs one first (a seed-protocol model needs none).
  const headers = new Map<string, Promise<RecordHeader>>();
  const headerOf = (record: string): Promise<RecordHeader> => {
    if (!headers.has(record)) headers.set(record, readHeader(join(dir, `${record}.hea`)));
    return headers.get(record)!;
  };
  const rules = monitorRules(options);
  const rulesOn = RULE_NAMES.filter((rule) => rules[rule]);
  let ruleChanges: Partial<RuleChanges> | undefined;
  let modelPredicted: Map<number, number> | undefined;
  if (rulesOn.length > 0) {
    if (!aamiModel || !wholeRecords) notes.push('rules after the model (the gates) not applied: they need AAMI classes and whole records in time order');
    else {
      ruleChanges = Object.fromEntries(rulesOn.map((rule) => [rule, 0]));
      modelPredicted = new Map(predicted);
      const rowOf = new Map(unique.map((i, k) => [i, k]));
      const probabilitiesOf = (i: number) => Array.from(probabilities.subarray(rowOf.get(i)! * classes.length, (rowOf.get(i)! + 1) * classes.length));
      for (const record of records) {
        const indices = [...byRecord.get(record)!].sort((a, b) => dataset.sample[a] - dataset.sample[b]);
        const changed = await replayRules(record, (await headerOf(record)).fsHz, indices, dataset, probabilitiesOf, predicted, rules);
        for (const rule of rulesOn) ruleChanges[rule]! += changed[rule];
      }
      for (const rule of rulesOn) notes.push(RULE_NOTES[rule](ruleChanges[rule]!));
    }
  }

  // Per beat, against the stored labels (protocol labels, or AAMI labels of the dataset).
  // Whole-record tests have no split: AAMI models read the dataset's AAMI labels, others (seed: N L R A V) the symbols.
  const labelOf = (i: number): number =>
    split ? split.labels[i] : aamiModel ? (dataset.labels[i] < classes.length ? dataset.labels[i] : -1) : classes.indexOf(dataset.symbol[i]);
  const confusionOf = (indices: readonly number[], by = predicted): SplitMetrics | undefined => {
    const confusion = classes.map(() => new Array<number>(classes.length).fill(0));
    let counted = 0;
    for (const i of indices) {
      const label = labelOf(i);
      if (label < 0) continue;
      confusion[label][by.get(i)!]++;
      counted++;
    }
    return counted > 0 ? metricsFromConfusion(confusion, classes, macroClassesFor(classes)) : undefined;
  };
  const classification = confusionOf(testIndices);
  const classificationLeakFree = split?.testLeakFree ? confusionOf(split.testLeakFree) : undefined;
  if (test.kind === 'records') {
    const unlabelled = testIndices.filter((i) => labelOf(i) < 0).length;
    if (unlabelled > 0) notes.push(`${unlabelled} test beats have no AAMI reference class (unmatched detections or non-AAMI symbols): classified and scored by EC57, left out of the per-beat table`);
  }

  let ec57: BeatsEvaluation['ec57'];
  let modelAloneEc57: BeatClassSummary | undefined;
  if (aamiModel) {
    if (!wholeRecords) notes.push('intra-patient: EC57 reference restricted to the test beats of each record (non-beat annotations kept)');
    if (outDir) await mkdir(outDir, { recursive: true });
    const scores: Record<'aami' | 'bxb' | 'modelAlone', BeatClassScore[]> = { aami: [], bxb: [], modelAlone: [] };
    const clsOf = (indices: readonly number[], by: Map<number, number>): Annotation[] => indices.map((i) => {
      const beatClass = classes[by.get(i)!] as BeatClass;
      return { sample: dataset.sample[i], code: CLASS_CODE[beatClass], symbol: beatClass === 'S' ? 'A' : beatClass, subtype: 0, chan: 0, num: 0 };
    });
    const lines: string[] = [];
    for (const record of records) {
      const indices = byRecord.get(record)!;
      const header = await headerOf(record);
      let reference = await readAnnotations(join(dir, `${record}.${annotator}`));
      if (!wholeRecords) {
        const testSamples = new Set(indices.map((i) => dataset.sample[i]));
        reference = reference.filter((a) => !isBeatCode(a.code) || testSamples.has(a.sample));
      }
      const cls = clsOf(indices, predicted);
      if (outDir) await writeAnnotations(join(outDir, `${record}.cls`), cls);
      const matchOptions = { fsHz: header.fsHz, fromSample: 0, endSample: header.numSamples };
      scores.aami.push(scoreBeatClasses(reference, cls, { ...matchOptions, classMap: 'aami' }));
      if (modelPredicted) scores.modelAlone.push(scoreBeatClasses(reference, clsOf(indices, modelPredicted), { ...matchOptions, classMap: 'aami' }));
      const bxbScore = scoreBeatClasses(reference, cls, { ...matchOptions, classMap: 'bxb' });
      scores.bxb.push(bxbScore);
      lines.push(formatBxbLine(record, bxbScore));
    }
    ec57 = {
      aami: summarizeBeatClasses(scores.aami), bxb: summarizeBeatClasses(scores.bxb), perRecordBxbLines: lines,
      perRecord: records.map((record, k) => ({ record, matrix: scores.aami[k].matrix })),
      ...(wholeRecords && records.length > 1 ? { bootstrap: bootstrapGross(scores.aami.map((s) => s.matrix)) } : {}),
    };
    if (modelPredicted) modelAloneEc57 = summarizeBeatClasses(scores.modelAlone);
  }

  return {
    model: members.map((c) => c.manifest.name).join(' + '), classes, test, beats: testIndices.length, classification, classificationLeakFree, ec57, notes,
    ...(ruleChanges ? { ruleChanges } : {}),
    ...(modelPredicted ? { modelAlone: { classification: confusionOf(testIndices, modelPredicted), ec57: modelAloneEc57 } } : {}),
  };
}

/** Beats each rule after the model changed. */
export type RuleChanges = Record<RuleName, number>;

/** What each rule did, in words, for the evaluation's notes. */
const RULE_NOTES: Record<RuleName, (changed: number) => string> = {
  afGate: (n) => `AF gate (detectAtrialFibrillation + gateSvebInAtrialFibrillation, as the live monitor): ${n} S calls in detected atrial fibrillation took the most probable class no rule ruled out`,
  templateGate: (n) => `template gate (gateVebByTemplate, as the live monitor): ${n} V calls whose QRS matched the stream's usual non-V beat took the most probable class no rule ruled out`,
  timingGate: (n) => `timing gate (gateVebByTiming, as the live monitor): ${n} V calls on time and without a pause after them, after a non-V beat, took the most probable class no rule ruled out`,
  pWaveGate: (n) => `P-wave gate (gateSvebByPWave, as the live monitor): ${n} S calls whose P wave matched the stream's usual N beat took the most probable class no rule ruled out`,
  qrsGate: (n) => `QRS gate (gateSvebByQrs, as the live monitor): ${n} S calls whose QRS was unlike the stream's usual non-V beat took the most probable class no rule ruled out`,
  atrialRunGate: (n) => `atrial run gate (gateNormalInAtrialRun, as the live monitor): ${n} N calls that continued a run of S beats at its rate, faster than the stream's sinus rhythm, became S`,
  morphologyVote: (n) => `morphology vote (gateVebByMorphology, as the live monitor): ${n} calls that went against the calls on the stream's earlier beats of the same QRS shape changed (V ruled out, or every other class)`,
};

/**
 * Replays one record's classified beats, in time order, through the rules the live monitor runs after the model
 * (ruleStages: the same stages as serve), writes the final classes into `predicted`, and counts what each rule changed.
 */
async function replayRules(
  record: string, fsHz: number, indices: readonly number[], dataset: BeatDataset,
  probabilitiesOf: (i: number) => number[], predicted: Map<number, number>, rules: MonitorRules,
): Promise<RuleChanges> {
  const L = dataset.windowLength;
  const F = dataset.featureCount;
  let beats: BeatClassification[] = indices.map((i) => ({
    streamId: record, sampleIndex: dataset.sample[i], fsHz, beatClass: BEAT_CLASSES[predicted.get(i)!], probabilities: probabilitiesOf(i), model: '',
    // The dataset does not record padding; its windows are cut at the dataset's rate (360 Hz) whatever the record's.
    window: { samples: dataset.windows.subarray(i * L, (i + 1) * L), samplesBefore: dataset.samplesBefore, paddedSamples: 0, fsHz: dataset.fsHz },
    rr: rrFeaturesFromRow(dataset.features.subarray(i * F, (i + 1) * F), dataset.featureNames),
  }));
  const changes = Object.fromEntries(RULE_NAMES.map((rule) => [rule, 0])) as RuleChanges;
  for (const { rule, stage } of ruleStages(rules)) {
    const next = await lastValueFrom(from(beats).pipe(stage, toArray()));
    changes[rule] = next.filter((beat, k) => beat.beatClass !== beats[k].beatClass).length;
    beats = next;
  }
  beats.forEach((beat, k) => predicted.set(indices[k], BEAT_CLASSES.indexOf(beat.beatClass)));
  return changes;
}
