/**
 * Training of the beat classifiers: seeded, reproducible, resumable after a kill.
 *
 * - **Data**: a dataset directory (src/model/dataset.ts), split by protocol with src/dataset/splits.ts
 *   (`inter` de Chazal DS1/DS2, `intra` stratified 80/20, `seed` the MSHAN notebook's resampled N L R A V).
 * - **Class imbalance**, said openly in the model manifest: by default *class-balanced sampling* — every epoch draws
 *   up to `perClassPerEpoch` training beats of each class (without replacement when the class has that many, else
 *   all of them repeated, at most `maxOversample` times); `balance: 'weights'` instead uses every training beat once
 *   per epoch with inverse-frequency class weights in the loss. The seed protocol is balanced by construction and
 *   uses every training beat once per epoch (`balance: 'none'`).
 * - **Reproducibility**: one seed drives weight initialisation (seeded tfjs initialisers), and a mulberry32 generator
 *   whose 32-bit state is checkpointed drives epoch sampling and shuffling. No dropout (tfjs's is not seedable).
 * - **Checkpoints** after every epoch in `<out>/checkpoint/epoch-NNNN/`: weights, Adam moments, Adam's iteration
 *   count and beta powers (stored exactly — recomputing them with pow() would differ in the last bit), the generator
 *   state, epoch, best-so-far weights and metric, history; `<out>/checkpoint/latest` (written atomically after the
 *   directory is complete) names the newest one. `resume` continues from it and ends with the same weights, bit for
 *   bit, as an uninterrupted run (tests/model/train.test.ts).
 * - **Distillation** (optional, `teachers`): the training target of each beat is (1 - weight) x its one-hot label +
 *   weight x the mean class probabilities of trained teacher models (Hinton et al. 2015, "Distilling the knowledge in
 *   a neural network"), the teachers run on the same augmented batch. A seed ensemble's average is steadier than any
 *   one seed on new patients; a student learns it at the cost of one model at inference. At a temperature T other
 *   than 1, the teachers' part compares temperature-softened distributions, softmax(log p / T), of the teachers (their
 *   mean) and of the student, scaled by T² so that its gradients keep their size (Hinton et al.); the label's part
 *   stays at T = 1.
 * - **Mixup** (optional, `mixup`; src/model/mixup.ts): each batch, after augmentation, blended with a shuffled copy
 *   of itself, inputs and targets alike (the teachers' included; they run on the unblended beats), its draws from the
 *   checkpointed generator.
 * - **The usual beat** (optional, `usualBeat`): each window goes in beside the stream's usual beat, the template
 *   compareToTemplate kept before it (stored by the dataset builder; the live stream makes the same), as a second
 *   channel: what a beat looks like next to the patient's own usual beat, which a network trained on other patients
 *   cannot know from the window alone.
 * - **Early stopping** on the validation macro F1 (classes with validation beats, Q left out for AAMI: it keeps only a
 *   few dozen beats once paced records are out), `patience` epochs; the best epoch's weights are the ones saved, or
 *   with `keep: 'last'` the last epoch's (a training length chosen by cross-validation on other data, which the
 *   validation split here should not overrule), or with `keep: 'average'` the mean of the weights after every step of
 *   the last epoch (Polyak-Ruppert tail averaging: Polyak and Juditsky 1992, "Acceleration of stochastic
 *   approximation by averaging"), which damps the noise of the last steps at no cost at inference. Early stopping,
 *   validation (on the weights as trained) and the learning-rate schedule are the same whichever is kept.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { SeededRandom } from '../dataset/seededRandom.js';
import { checkProtocolRecords, groupBy, splitBeats, validationFoldOf, type Protocol, type ProtocolSplit } from '../dataset/splits.js';
import { ConfigError, ModelError } from '../errors.js';
import { log } from '../log.js';
import { loadDataset, loadUsualBeats, type BeatDataset } from './dataset.js';
import { featureColumns, selectColumns, selectRows } from '../pipeline/beatFeatures.js';
import { buildModel, MODEL_KINDS, usesRr, type ModelKind, type ModelSize } from './models.js';
import { saveModel, type ClassMetrics, type InputNormalisation, type ModelManifest, type SplitMetrics } from './modelIo.js';
import { interleaveChannels, loadClassifier, normaliseFeatures, normaliseWindows, type Classifier } from './predict.js';
import { mixRows, mixupPlan } from './mixup.js';

export type Balance = 'sampling' | 'weights' | 'none';

export interface TrainOptions {
  model: ModelKind;
  protocol: Protocol;
  /** Dataset directory (layout in src/model/dataset.ts). */
  datasetDir: string;
  /** Output model directory, e.g. models/mshan-inter. */
  outDir: string;
  /** Maximum epochs. Default 40. */
  epochs?: number;
  /** Beats per gradient step. Default 64. */
  batchSize?: number;
  /** Seed of weights, sampling and the split. Default 1. */
  seed?: number;
  /** Adam learning rate. Default 1e-3. */
  learningRate?: number;
  /** Default 'sampling' ('none' for the seed protocol). */
  balance?: Balance;
  /** Balanced sampling: beats drawn per class per epoch. Default 4000. */
  perClassPerEpoch?: number;
  /** Balanced sampling: a class is repeated at most this many times per epoch. Default 20. */
  maxOversample?: number;
  /** Balanced sampling: N (the first class) beats drawn per epoch, as a multiple of perClassPerEpoch. Default 1. */
  majorityFactor?: number;
  /** Balanced sampling: beats per epoch of each class by name (overrides perClassPerEpoch and majorityFactor). */
  classQuota?: Record<string, number>;
  /**
   * Balanced sampling: how a class's quota is shared among the records (patients) that have beats of it. Record r's
   * share is proportional to n_r ^ recordBalance, n_r its beats of the class: 1 (the default) draws in proportion to
   * the beats, so a few patients dominate a class (record 208 gives 992 of DS1's 3,788 V beats); 0.5 tempers that
   * (square-root sampling); 0 gives every record an equal share. Each record is repeated at most maxOversample times.
   */
  recordBalance?: number;
  /**
   * Training-time augmentation, drawn from the checkpointed generator (so resume stays exact): each window scaled by
   * a factor in [1 - a, 1 + a], shifted by up to `shiftSamples` samples (edge values repeated), optionally stretched in
   * time about the R-peak, plus Gaussian noise (augmentWindow). Default off.
   */
  augment?: Augmentation;
  /** Window normalisation: default the protocol's (z-score for seed, one global scale otherwise). */
  windowNormalisation?: 'zscore' | 'scale';
  /** Early stopping: epochs without a better validation macro F1. Default 8. */
  patience?: number;
  /**
   * Whose weights are saved: the epoch with the best validation macro F1 (`best`, the default) or the last epoch run
   * (`last`: the training length was chosen elsewhere, e.g. by a patient-wise cross-validation), or the mean of the
   * weights after every step of the last epoch run (`average`; see the module comment).
   */
  keep?: 'best' | 'last' | 'average';
  /**
   * Reduce the learning rate on a plateau: after `patience` epochs without a better validation macro F1 the rate is
   * multiplied by `factor` (not below `min`), and again after each further `patience` stale epochs.
   * Default { factor: 0.5, patience: 3, min: 1e-5 }; factor 1 turns it off.
   */
  lrDecay?: { factor: number; patience: number; min: number };
  /** Stop starting new epochs when the next one would end after this many minutes (cumulative over resumes). Default 28. */
  maxMinutes?: number;
  /** Continue from `<outDir>/checkpoint/latest`. */
  resume?: boolean;
  /** Keep the checkpoint directory after a finished run. Default false. */
  keepCheckpoints?: boolean;
  /** Split seed passed to splitBeats. Default 20260127 (the split module's default). */
  splitSeed?: number;
  /** Testing hook: stop (as if killed) after this epoch has been checkpointed. */
  stopAfterEpoch?: number;
  /** Where progress lines go (people, not machines). Default: none. */
  progress?: { write(text: string): unknown; isTTY?: boolean };
  /** The dataset, when already in memory (tests); else read from datasetDir. */
  dataset?: BeatDataset;
  /** Inter-patient protocol: validation from DS1 beats (default) or from held-out DS1 records (see splitBeats). */
  interValidation?: 'beats' | 'records';
  /** Validation fold k (cross-validation; see splitBeats): a share of the training beats, or a group of DS1 records. */
  validationFold?: number;
  /** Names of the dataset's features the model gets (default all of them); see src/pipeline/beatFeatures.ts. */
  features?: readonly string[];
  /** MSHAN layer sizes (filters per branch, GRU units, a second stage); default the cost-sized network of src/model/mshan.ts. */
  size?: ModelSize;
  /** Model-builder override (tests use tiny models); `channels` is 2 with `usualBeat`. */
  buildOverride?: (featureCount: number, seed: number, channels: number) => tf.LayersModel;
  /**
   * Refit (set by {@link trainWithRefit}): train from scratch on the training *and* validation beats for a fixed
   * learning-rate schedule, one rate per epoch, taken from a finished search run; no early stopping, the last epoch's
   * weights are kept. The search run's validation metrics are the model's (nothing is left to validate on).
   */
  refit?: RefitPlan;
  /**
   * Distillation: teacher model directories, the weight of their mean probabilities in the target, and the
   * temperature (default 1) at which the student matches them (see above).
   */
  teachers?: { dirs: readonly string[]; weight: number; temperature?: number };
  /** Mixup (src/model/mixup.ts): each batch blended with a shuffled copy of itself, λ ~ Beta(alpha, alpha). Default off. */
  mixup?: { alpha: number };
  /**
   * The stream's usual beat (compareToTemplate's, stored in the dataset's usual-beats.f32) as a second window channel,
   * normalised with the beat's own parameters; not augmented, so a shifted or rescaled beat is seen beside its
   * unchanged usual beat. Default off.
   */
  usualBeat?: boolean;
}

export interface RefitPlan {
  /** Learning rate of each epoch: the search run's rates up to its best epoch. */
  learningRates: number[];
  search: { bestEpoch: number; epochsRun: number; stoppedBy: string; totalSeconds?: number; validation?: SplitMetrics; test?: SplitMetrics; testLeakFree?: SplitMetrics };
}

export interface EpochRecord {
  epoch: number;
  loss: number;
  beats: number;
  seconds: number;
  /** Learning rate the epoch was trained with (the refit replays these). */
  learningRate: number;
  validation: SplitMetrics;
}

export interface TrainResult {
  outDir: string;
  manifest: ModelManifest;
  history: EpochRecord[];
  bestEpoch: number;
  stoppedBy: 'epochs' | 'early-stopping' | 'time-budget' | 'interrupted';
  model: tf.LayersModel;
}

// ----------------------------------------------------------------------------------------------------------------
// Metrics
// ----------------------------------------------------------------------------------------------------------------

/** Per-class Se, +P, F1, accuracy and macro F1 from a confusion matrix confusion[true][predicted]. */
export function metricsFromConfusion(confusion: number[][], classes: readonly string[], macroClasses: readonly string[]): SplitMetrics {
  const k = classes.length;
  const perClass: Record<string, ClassMetrics> = {};
  let correct = 0, count = 0;
  for (let c = 0; c < k; c++) {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c], 0);
    const se = support > 0 ? tp / support : Number.NaN;
    const ppv = predicted > 0 ? tp / predicted : Number.NaN;
    const f1 = support > 0 ? (predicted > 0 && tp > 0 ? (2 * se * ppv) / (se + ppv) : 0) : Number.NaN;
    perClass[classes[c]] = { se, ppv, f1, support };
    correct += tp;
    count += support;
  }
  const used = macroClasses.filter((c) => perClass[c] !== undefined && perClass[c].support > 0);
  const macroF1 = used.length > 0 ? used.reduce((a, c) => a + perClass[c].f1, 0) / used.length : 0;
  return { accuracy: count > 0 ? correct / count : 0, macroF1, macroClasses: used, perClass, confusion, count };
}

/** Classes averaged into the macro F1: AAMI N S V F (Q too small once paced records are out); all classes otherwise. */
export function macroClassesFor(classes: readonly string[]): string[] {
  return classes.join('') === 'NSVFQ' ? ['N', 'S', 'V', 'F'] : [...classes];
}

// ----------------------------------------------------------------------------------------------------------------
// Inputs
// ----------------------------------------------------------------------------------------------------------------

interface PreparedInputs {
  windows: Float32Array; // N x L, normalised
  /** N x L usual beats normalised with their beat's parameters, for two-channel models; else undefined. */
  usualBeats?: Float32Array;
  features: Float32Array; // N x F, normalised
  windowLength: number;
  /** Index of the R-peak in a window (the centre of a time stretch). */
  samplesBefore: number;
  featureCount: number;
  normalisation: InputNormalisation;
}

/** The dataset with only the named feature columns (all when `names` is undefined). */
function withFeatures(ds: BeatDataset, names: readonly string[] | undefined): BeatDataset {
  if (!names) return ds;
  const columns = featureColumns(ds.featureNames, names, `train: ${ds.dir}`);
  return { ...ds, featureNames: [...names], featureCount: names.length, features: selectColumns(ds.features, ds.featureCount, columns) };
}

function prepareInputs(ds: BeatDataset, split: ProtocolSplit, windowMode: 'zscore' | 'scale', usualBeats?: Float32Array): PreparedInputs {
  const L = ds.windowLength, F = ds.featureCount;
  const train = [...new Set(split.train)];
  let windowScale = 1;
  if (windowMode !== 'zscore') {
    let s = 0, s2 = 0, n = 0;
    for (const i of train) for (let j = 0; j < L; j++) { const v = ds.windows[i * L + j]; if (Number.isFinite(v)) { s += v; s2 += v * v; n++; } }
    const sd = n > 1 ? Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2)) : 1;
    windowScale = sd > 1e-9 ? 1 / sd : 1;
  }
  const featureMean: number[] = [], featureStd: number[] = [];
  for (let f = 0; f < F; f++) {
    let s = 0, s2 = 0, n = 0;
    for (const i of train) { const v = ds.features[i * F + f]; if (Number.isFinite(v)) { s += v; s2 += v * v; n++; } }
    const m = n > 0 ? s / n : 0;
    const sd = n > 1 ? Math.sqrt(Math.max(0, s2 / n - m * m)) : 1;
    featureMean.push(m);
    featureStd.push(sd > 1e-9 ? sd : 1);
  }
  const normalisation: InputNormalisation = {
    window: windowMode, windowScale, featureMean, featureStd, featureClip: 10,
  };
  const [windows, usual] = normaliseWindows(ds.windows, L, normalisation, ...(usualBeats ? [usualBeats] : []));
  return {
    windows,
    usualBeats: usual,
    features: normaliseFeatures(ds.features, F, normalisation),
    windowLength: L, samplesBefore: ds.samplesBefore, featureCount: F, normalisation,
  };
}

/**
 * Loads the distillation teachers and checks that each can be fed the student's prepared inputs as they are: the same
 * classes, features and input normalisation (so the same protocol, features and training beats).
 */
async function loadTeachers(dirs: readonly string[], classes: readonly string[], inp: PreparedInputs, featureNames: readonly string[], withRr: boolean): Promise<Classifier[]> {
  const teachers: Classifier[] = [];
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((x, i) => Math.abs(x - b[i]) <= 1e-6 * Math.max(1, Math.abs(x)));
  for (const dir of dirs) {
    const t = await loadClassifier(dir);
    teachers.push(t);
    const m = t.manifest, n = inp.normalisation;
    const problem = m.classes.join() !== classes.join() ? `classes ${m.classes.join(' ')}, the student's ${classes.join(' ')}`
      : m.input.usesRr !== withRr || m.input.featureNames.join() !== (withRr ? featureNames.join() : '') ? `features [${m.input.featureNames.join(', ')}], the student's [${withRr ? featureNames.join(', ') : ''}]`
      : m.input.windowLength !== inp.windowLength ? `window length ${m.input.windowLength}, the student's ${inp.windowLength}`
      : Boolean(m.input.usualBeat) !== Boolean(inp.usualBeats) ? `${m.input.usualBeat ? 'a' : 'no'} usual beat beside the window, the student ${inp.usualBeats ? 'has one' : 'none'}`
      : m.normalisation.window !== n.window || !same([m.normalisation.windowScale], [n.windowScale]) || (withRr && (!same(m.normalisation.featureMean, n.featureMean) || !same(m.normalisation.featureStd, n.featureStd)))
        ? 'an input normalisation other than the student\'s (trained on other beats or with another --window-norm)'
      : undefined;
    if (problem) {
      teachers.forEach((x) => x.model.dispose());
      throw new ConfigError('ECG_ERR_BAD_OPTION', `train: teacher ${dir} has ${problem}; a teacher must be trained with the student's protocol, features and training beats`);
    }
  }
  return teachers;
}

/** Per-row cross-entropy of the probabilities `of` against the target distribution `target` (rows sum to 1). */
export function crossEntropy(target: tf.Tensor, of: tf.Tensor): tf.Tensor {
  return tf.neg(tf.sum(tf.mul(target, tf.log(tf.clipByValue(of, 1e-7, 1))), -1));
}

/** Probabilities softened at `temperature`: softmax(log p / T), what softmax(logits / T) gives for softmax outputs. */
export function soften(p: tf.Tensor, temperature: number): tf.Tensor {
  return tf.softmax(tf.div(tf.log(tf.clipByValue(p, 1e-7, 1)), temperature));
}

/**
 * The distillation loss per beat at a temperature T (Hinton et al. 2015): (1 - weight) x the cross-entropy of the
 * student's probabilities `p` against the label, plus weight x T² x the cross-entropy of the student softened at T
 * against `taughtSoftened` (the teachers' mean of their probabilities softened at T).
 */
export function distillationLoss(p: tf.Tensor, oneHot: tf.Tensor, taughtSoftened: tf.Tensor, weight: number, temperature: number): tf.Tensor {
  return tf.add(tf.mul(crossEntropy(oneHot, p), 1 - weight), tf.mul(crossEntropy(taughtSoftened, soften(p, temperature)), weight * temperature ** 2));
}

/** Training-time augmentation of a window (see TrainOptions.augment). */
export interface Augmentation {
  amplitude: number;
  shiftSamples: number;
  noise: number;
  /** Time stretch about the R-peak by a factor in [1 - stretch, 1 + stretch]; absent or 0: none. */
  stretch?: number;
}

/**
 * Writes one augmented copy of `src` into `out` (same length), drawing from `rng`: scaled by a gain in
 * [1 - amplitude, 1 + amplitude], shifted by up to `shiftSamples` (edge values repeated), stretched in time about the
 * R-peak at `samplesBefore` (linear interpolation; QRS width and intervals vary between patients), plus Gaussian noise.
 * Without a stretch the draws and the result are exactly those of the augmentation before stretching existed, so
 * models trained with `--augment` alone retrain to the same weights.
 */
export function augmentWindow(src: Float32Array, out: Float32Array, samplesBefore: number, a: Augmentation, rng: SeededRandom): void {
  const L = src.length;
  const gain = 1 + a.amplitude * (2 * rng.next() - 1);
  const shift = Math.round(a.shiftSamples * (2 * rng.next() - 1));
  const scale = a.stretch ? 1 + a.stretch * (2 * rng.next() - 1) : 1;
  for (let j = 0; j < L; j++) {
    const g = rng.normal();
    let value: number;
    if (scale === 1) value = src[Math.min(L - 1, Math.max(0, j - shift))];
    else {
      const x = Math.min(L - 1, Math.max(0, samplesBefore + (j - shift - samplesBefore) / scale));
      const j0 = Math.floor(x), j1 = Math.min(L - 1, j0 + 1);
      value = src[j0] + (src[j1] - src[j0]) * (x - j0);
    }
    out[j] = value * gain + a.noise * g;
  }
}

function batchTensors(inp: PreparedInputs, indices: ArrayLike<number>, from: number, to: number, withRr: boolean, augment?: { rng: SeededRandom } & Augmentation): tf.Tensor[] {
  const n = to - from, L = inp.windowLength, F = inp.featureCount;
  const w = new Float32Array(n * L);
  for (let k = 0; k < n; k++) {
    const i = indices[from + k];
    const src = inp.windows.subarray(i * L, (i + 1) * L);
    if (!augment) w.set(src, k * L);
    else augmentWindow(src, w.subarray(k * L, (k + 1) * L), inp.samplesBefore, augment, augment.rng);
  }
  const usual = inp.usualBeats;
  const out: tf.Tensor[] = [usual ? tf.tensor3d(interleaveChannels(w, selectRows(usual, L, indices, from, to)), [n, L, 2]) : tf.tensor3d(w, [n, L, 1])];
  if (withRr) out.push(tf.tensor2d(selectRows(inp.features, F, indices, from, to), [n, F]));
  return out;
}

/** Predicted class of each listed beat (argmax), in batches of 256. */
function predictClasses(model: tf.LayersModel, inp: PreparedInputs, indices: readonly number[], withRr: boolean): Int32Array {
  const out = new Int32Array(indices.length);
  for (let from = 0; from < indices.length; from += 256) {
    const to = Math.min(indices.length, from + 256);
    const xs = batchTensors(inp, indices, from, to, withRr);
    const arg = tf.tidy(() => tf.argMax(model.predict(xs, { batchSize: to - from }) as tf.Tensor, -1));
    out.set(arg.dataSync() as Int32Array, from);
    tf.dispose([arg, ...xs]);
  }
  return out;
}

export function evaluateIndices(model: tf.LayersModel, inp: PreparedInputs, split: ProtocolSplit, indices: readonly number[], withRr: boolean): SplitMetrics {
  const k = split.classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  const predicted = predictClasses(model, inp, indices, withRr);
  indices.forEach((i, j) => confusion[split.labels[i]][predicted[j]]++);
  return metricsFromConfusion(confusion, split.classes, macroClassesFor(split.classes));
}

// ----------------------------------------------------------------------------------------------------------------
// Epoch composition
// ----------------------------------------------------------------------------------------------------------------

/** How an epoch shares each class's quota among records: see TrainOptions.recordBalance. */
export interface RecordSharing {
  recordOf: readonly string[];
  exponent: number;
}

/** One epoch's training beats, shuffled: every beat once, or each class's quota (see TrainOptions.balance). */
export function epochIndices(split: ProtocolSplit, balance: Balance, quota: (c: number) => number, maxOversample: number, rng: SeededRandom, sharing?: RecordSharing): number[] {
  if (balance !== 'sampling') return rng.shuffle([...split.train]);
  const byClass = groupBy(split.train, (i) => split.labels[i]);
  const out: number[] = [];
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = byClass.get(c)!;
    const want = Math.min(quota(c), members.length * maxOversample);
    if (!sharing) { drawBeats(members, want, rng, out); continue; }
    const byRecord = [...groupBy(members, (i) => sharing.recordOf[i]).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const counts = largestRemainder(want, byRecord.map(([, beats]) => beats.length ** sharing.exponent));
    byRecord.forEach(([, beats], r) => drawBeats(beats, Math.min(counts[r], beats.length * maxOversample), rng, out));
  }
  return rng.shuffle(out);
}

/** Appends `want` of `members` to `out`: without replacement when there are enough, else all of them repeated. */
function drawBeats(members: readonly number[], want: number, rng: SeededRandom, out: number[]): void {
  if (members.length >= want) {
    const copy = [...members];
    for (let k = 0; k < want; k++) { const j = k + rng.int(copy.length - k); [copy[k], copy[j]] = [copy[j], copy[k]]; out.push(copy[k]); }
  } else {
    const reps = Math.floor(want / members.length);
    for (let r = 0; r < reps; r++) out.push(...members);
    for (let k = 0; k < want - reps * members.length; k++) out.push(members[rng.int(members.length)]);
  }
}

/**
 * Integer shares of `total` proportional to `weights` that sum to `total` (Hamilton's largest-remainder method);
 * all zeros when no weight is positive.
 */
export function largestRemainder(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  if (!(sum > 0)) return weights.map(() => 0);
  const exact = weights.map((w) => (total * w) / sum);
  const shares = exact.map(Math.floor);
  const byRemainder = exact.map((_, i) => i).sort((a, b) => exact[b] - shares[b] - (exact[a] - shares[a]) || a - b);
  for (let k = 0, left = total - shares.reduce((a, n) => a + n, 0); k < left; k++) shares[byRemainder[k % byRemainder.length]]++;
  return shares;
}

function classWeights(split: ProtocolSplit, balance: Balance): number[] {
  const k = split.classes.length;
  if (balance !== 'weights') return new Array<number>(k).fill(1);
  const counts = new Array<number>(k).fill(0);
  for (const i of split.train) counts[split.labels[i]]++;
  const present = counts.filter((c) => c > 0).length;
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (c > 0 ? total / (present * c) : 0));
}

// ----------------------------------------------------------------------------------------------------------------
// Checkpoints
// ----------------------------------------------------------------------------------------------------------------

interface CheckpointState {
  fingerprint: string;
  epoch: number;
  rngState: number;
  iterations: number;
  accBeta1: number;
  accBeta2: number;
  bestMetric: number;
  bestEpoch: number;
  epochsWithoutImprovement: number;
  elapsedSeconds: number;
  learningRate: number;
  history: EpochRecord[];
  weightSizes: number[];
  optimizerSizes: number[];
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations: number;
}

function floatsToBuffer(arrays: Float32Array[]): Buffer {
  const total = arrays.reduce((n, a) => n + a.length, 0);
  const buf = Buffer.alloc(total * 4);
  let o = 0;
  for (const a of arrays) for (let i = 0; i < a.length; i++, o += 4) buf.writeFloatLE(a[i], o);
  return buf;
}

function bufferToFloats(buf: Buffer, sizes: number[], file: string): Float32Array[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (buf.byteLength !== total * 4) throw new ModelError('ECG_ERR_MODEL', `${file}: ${buf.byteLength} bytes, expected ${total * 4} (corrupt or from another model)`);
  let o = 0;
  return sizes.map((n) => { const a = new Float32Array(n); for (let i = 0; i < n; i++, o += 4) a[i] = buf.readFloatLE(o); return a; });
}

async function saveCheckpoint(dir: string, model: tf.LayersModel, optimizer: tf.AdamOptimizer, best: Float32Array[], state: Omit<CheckpointState, 'iterations' | 'accBeta1' | 'accBeta2' | 'weightSizes' | 'optimizerSizes'>): Promise<void> {
  const name = `epoch-${String(state.epoch).padStart(4, '0')}`;
  const target = join(dir, name);
  await rm(target, { recursive: true, force: true });
  await mkdir(target, { recursive: true });
  const weights = model.getWeights().map((w) => w.dataSync() as Float32Array);
  // getWeights() makes a fresh scalar of the iteration count first (stored exactly below, not from it): dispose it.
  const [iterationCount, ...moments] = await optimizer.getWeights();
  iterationCount.tensor.dispose();
  const optWeights = moments.map((w) => w.tensor.dataSync() as Float32Array);
  const adam = optimizer as unknown as AdamInternals;
  const full: CheckpointState = {
    ...state, iterations: adam.iterations, accBeta1: adam.accBeta1.dataSync()[0], accBeta2: adam.accBeta2.dataSync()[0],
    weightSizes: weights.map((w) => w.length), optimizerSizes: optWeights.map((w) => w.length),
  };
  await writeFile(join(target, 'weights.bin'), floatsToBuffer(weights));
  await writeFile(join(target, 'best.bin'), floatsToBuffer(best));
  await writeFile(join(target, 'optimizer.bin'), floatsToBuffer(optWeights));
  await writeFile(join(target, 'state.json'), JSON.stringify(full));
  const tmp = join(dir, `latest.tmp-${process.pid}`);
  await writeFile(tmp, name);
  await rename(tmp, join(dir, 'latest'));
  // Older checkpoints are no longer needed once `latest` points past them.
  for (let e = state.epoch - 1; e >= Math.max(0, state.epoch - 3); e--) await rm(join(dir, `epoch-${String(e).padStart(4, '0')}`), { recursive: true, force: true });
}

async function loadCheckpoint(dir: string, fingerprint: string, model: tf.LayersModel, optimizer: tf.AdamOptimizer): Promise<{ state: CheckpointState; best: Float32Array[] }> {
  const latestFile = join(dir, 'latest');
  if (!existsSync(latestFile)) throw new ModelError('ECG_ERR_MODEL', `${latestFile}: no checkpoint to resume from`);
  const target = join(dir, (await readFile(latestFile, 'utf8')).trim());
  const stateFile = join(target, 'state.json');
  let state: CheckpointState;
  try {
    state = JSON.parse(await readFile(stateFile, 'utf8')) as CheckpointState;
  } catch (error) {
    throw new ModelError('ECG_ERR_MODEL', `${stateFile}: unreadable checkpoint state`, { cause: error });
  }
  if (state.fingerprint !== fingerprint) {
    throw new ModelError('ECG_ERR_MODEL', `${stateFile}: checkpoint of a different run (model, protocol, seed, options or dataset differ); remove it or train without --resume`);
  }
  const shapes = model.getWeights().map((w) => w.size);
  if (shapes.join() !== state.weightSizes.join()) throw new ModelError('ECG_ERR_MODEL', `${stateFile}: checkpoint weights do not fit this architecture`);
  const weights = bufferToFloats(await readFile(join(target, 'weights.bin')), state.weightSizes, join(target, 'weights.bin'));
  const best = bufferToFloats(await readFile(join(target, 'best.bin')), state.weightSizes, join(target, 'best.bin'));
  const opt = bufferToFloats(await readFile(join(target, 'optimizer.bin')), state.optimizerSizes, join(target, 'optimizer.bin'));
  setWeights(model, weights);
  if (opt.length > 0) {
    const vars = model.trainableWeights;
    const half = opt.length / 2;
    if (half !== vars.length) throw new ModelError('ECG_ERR_MODEL', `${target}: optimizer state holds ${half} moments, the model has ${vars.length} trainable weights`);
    const named = opt.map((values, k) => {
      const v = vars[k % half];
      return { name: `${v.name}/${k < half ? "m" : "v"}`, tensor: tf.tensor(values, v.shape as number[]) };
    });
    await optimizer.setWeights([{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }, ...named]);
    const adam = optimizer as unknown as AdamInternals;
    adam.accBeta1.assign(tf.scalar(state.accBeta1));
    adam.accBeta2.assign(tf.scalar(state.accBeta2));
  }
  return { state, best };
}

/** Folds the model's current weights into `mean`, the running mean of `count - 1` earlier snapshots. */
function addToMean(mean: Float32Array[], model: tf.LayersModel, count: number): void {
  model.getWeights().forEach((w, i) => {
    const values = w.dataSync();
    const m = mean[i];
    for (let j = 0; j < m.length; j++) m[j] += (values[j] - m[j]) / count;
  });
}

function setWeights(model: tf.LayersModel, values: Float32Array[]): void {
  const current = model.getWeights();
  const tensors = values.map((v, k) => tf.tensor(v, current[k].shape));
  model.setWeights(tensors);
  tf.dispose(tensors);
}

// ----------------------------------------------------------------------------------------------------------------
// Training
// ----------------------------------------------------------------------------------------------------------------

function pct(x: number): string {
  return Number.isFinite(x) ? (100 * x).toFixed(1) : '  - ';
}

function formatSeconds(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
}

/** Trains one model on one protocol; see the module comment. Resolves when the model directory is written. */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const {
    model: kind, protocol, datasetDir, outDir, refit, batchSize = 64, seed = 1, learningRate = 1e-3,
    perClassPerEpoch = 4000, maxOversample = 20, majorityFactor = 1, augment, patience = 8, lrDecay = { factor: 0.5, patience: 3, min: 1e-5 }, maxMinutes = 28, resume = false, keepCheckpoints = false,
    splitSeed, stopAfterEpoch, progress, teachers: distillation, keep = 'best',
  } = options;
  const epochs = refit ? refit.learningRates.length : options.epochs ?? 40;
  if (!options.buildOverride && !MODEL_KINDS.includes(kind)) throw new ConfigError('ECG_ERR_BAD_OPTION', `unknown model "${kind}" (expected ${MODEL_KINDS.join(', ')})`);
  for (const [name, v] of Object.entries({ epochs, batchSize, perClassPerEpoch, maxOversample, patience })) {
    if (!Number.isInteger(v) || v < 1) throw new ConfigError('ECG_ERR_BAD_OPTION', `train: ${name}=${v} must be a positive integer`);
  }
  if (distillation && (distillation.dirs.length === 0 || !(distillation.weight > 0 && distillation.weight <= 1))) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `train: distillation needs at least one teacher and a weight in (0, 1], not ${distillation.dirs.length} teachers and ${distillation.weight}`);
  }
  const temperature = distillation?.temperature ?? 1;
  if (!(Number.isFinite(temperature) && temperature > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `train: distillation temperature ${temperature} must be a positive number`);
  const mixup = options.mixup;
  if (mixup && !(Number.isFinite(mixup.alpha) && mixup.alpha > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `train: mixup alpha ${mixup.alpha} must be a positive number`);
  const balance: Balance = options.balance ?? (protocol === 'seed' ? 'none' : 'sampling');
  if (options.size && !kind.startsWith('mshan')) throw new ConfigError('ECG_ERR_BAD_OPTION', `train: --filters, --gru-units and --second-stage size MSHAN only, not ${kind}`);

  const ds = withFeatures(options.dataset ?? (await loadDataset(datasetDir)), options.features);
  checkProtocolRecords(ds.record, protocol);
  const protocolSplit = splitBeats(ds.record.map((record, i) => ({ record, symbol: ds.symbol[i] })), protocol, { ...(splitSeed === undefined ? {} : { seed: splitSeed }), interValidation: options.interValidation, validationFold: options.validationFold });
  // The refit trains on the validation beats too; the test set (and the seed protocol's leak-free subset, which
  // already excludes validation beats) is unchanged.
  const split: ProtocolSplit = refit ? { ...protocolSplit, train: [...protocolSplit.train, ...protocolSplit.validation], validation: [] } : protocolSplit;
  if (split.train.length === 0) throw new ModelError('ECG_ERR_MODEL', `${ds.dir}: no training beats for protocol ${protocol}`);
  if (protocol === 'seed' && !ds.hasSymbols) log.warn('dataset has no MIT-BIH symbols: the seed protocol sees AAMI class names only (N, V)');
  const classQuota = options.classQuota;
  const recordBalance = options.recordBalance ?? 1;
  if (!(Number.isFinite(recordBalance) && recordBalance >= 0 && recordBalance <= 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `train: record balance ${recordBalance} must be a number from 0 to 1`);
  if (recordBalance !== 1 && balance !== 'sampling') throw new ConfigError('ECG_ERR_BAD_OPTION', `train: record balance shares the sampled quota among records, so it needs balance "sampling", not "${balance}"`);
  const sharing = recordBalance !== 1 ? { recordOf: ds.record, exponent: recordBalance } : undefined;
  const quotaOf = (c: number): number => Math.round(classQuota?.[split.classes[c]] ?? perClassPerEpoch * (c === 0 ? majorityFactor : 1));
  const windowMode = options.windowNormalisation ?? (split.beatNormalisation === 'zscore' ? 'zscore' : 'scale');
  const usualBeat = options.usualBeat ?? false;
  const inp = prepareInputs(ds, split, windowMode, usualBeat ? ds.usualBeats ?? (await loadUsualBeats(ds)) : undefined);
  const withRr = usesRr(kind) && ds.featureCount > 0;
  const weights = classWeights(split, balance);
  const k = split.classes.length;
  const teachers = distillation ? await loadTeachers(distillation.dirs, split.classes, inp, ds.featureNames, withRr) : [];

  const model = options.buildOverride ? options.buildOverride(withRr ? ds.featureCount : 0, seed, usualBeat ? 2 : 1) : buildModel(kind, ds.featureCount, seed, options.size, usualBeat ? 2 : 1);
  const optimizer = tf.train.adam(learningRate);
  const varList = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const fingerprint = JSON.stringify({ kind, protocol, seed, learningRate, batchSize, balance, perClassPerEpoch, maxOversample, majorityFactor, classQuota: classQuota ?? null, features: ds.featureNames, augment: augment ?? null, windowMode, lrDecay, splitSeed: splitSeed ?? null, interValidation: options.interValidation ?? null, validationFold: options.validationFold ?? null, refit: refit?.learningRates ?? null, teachers: distillation ?? null, hash: ds.hash, params: model.countParams(), ...(keep !== 'best' ? { keep } : {}), ...(options.size?.secondStageKernels ? { secondStage: options.size.secondStageKernels } : {}), ...(options.size?.secondStageSkip ? { secondStageSkip: true } : {}), ...(mixup ? { mixup } : {}), ...(usualBeat ? { usualBeat } : {}), ...(sharing ? { recordBalance } : {}) });
  const ckptDir = join(outDir, 'checkpoint');

  const rng = new SeededRandom(seed * 0x9e3779b1);
  let startEpoch = 1, bestMetric = -1, bestEpoch = 0, stale = 0, elapsedBefore = 0, currentLr = learningRate;
  // tfjs's Adam reads its (protected) learningRate field at every step, so assigning it changes the rate from then on.
  const setLearningRate = (lr: number) => { currentLr = lr; (optimizer as unknown as { learningRate: number }).learningRate = lr; };
  let history: EpochRecord[] = [];
  let best = model.getWeights().map((w) => w.dataSync() as Float32Array);
  if (resume && existsSync(join(ckptDir, 'latest'))) {
    const loaded = await loadCheckpoint(ckptDir, fingerprint, model, optimizer);
    const s = loaded.state;
    rng.state = s.rngState; startEpoch = s.epoch + 1; bestMetric = s.bestMetric; bestEpoch = s.bestEpoch; stale = s.epochsWithoutImprovement;
    elapsedBefore = s.elapsedSeconds; history = s.history; best = loaded.best; setLearningRate(s.learningRate ?? learningRate);
    log.info({ epoch: s.epoch, outDir }, 'resuming from checkpoint');
    progress?.write(`resuming after epoch ${s.epoch} (best macro F1 ${s.bestMetric.toFixed(4)} at epoch ${s.bestEpoch})\n`);
  } else if (resume) {
    log.warn({ ckptDir }, 'no checkpoint found: starting from scratch');
  }

  log.info({ model: kind, protocol, train: split.train.length, validation: split.validation.length, test: split.test.length, balance, params: model.countParams(), backend: tf.getBackend() }, 'training');
  const started = performance.now();
  let stoppedBy: TrainResult['stoppedBy'] = 'epochs';
  const classWeightTensor = tf.tensor1d(weights);
  for (let epoch = startEpoch; epoch <= epochs; epoch++) {
    const epochStart = performance.now();
    if (refit) setLearningRate(refit.learningRates[epoch - 1]);
    const epochLearningRate = currentLr;
    const indices = epochIndices(split, balance, quotaOf, maxOversample, rng, sharing);
    let lossSum = 0, lossCount = 0;
    const steps = Math.ceil(indices.length / batchSize);
    // keep 'average': the running mean of this epoch's weights after each step (it restarts every epoch).
    const stepMean = keep === 'average' ? model.getWeights().map((w) => new Float32Array(w.size)) : undefined;
    for (let step = 0; step < steps; step++) {
      const from = step * batchSize, to = Math.min(indices.length, from + batchSize);
      const beats = batchTensors(inp, indices, from, to, withRr, augment ? { rng, ...augment } : undefined);
      const labels = new Int32Array(to - from);
      for (let j = from; j < to; j++) labels[j - from] = split.labels[indices[j]];
      const labelsOneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), k).toFloat());
      // The teachers see the beats themselves; with mixup their targets are blended like the labels.
      const teachersMean = distillation ? tf.tidy(() => {
        const predictions = teachers.map((t) => t.model.predict(beats, { batchSize: to - from }) as tf.Tensor);
        return tf.div(tf.addN(temperature === 1 ? predictions : predictions.map((q) => soften(q, temperature))), teachers.length);
      }) : undefined;
      const plan = mixup ? mixupPlan(rng, to - from, mixup.alpha) : undefined;
      const blend = (t: tf.Tensor) => (plan ? mixRows(t, plan) : t);
      const xs = beats.map(blend);
      const oneHot = blend(labelsOneHot);
      const taught = teachersMean && blend(teachersMean);
      // At temperature 1 the two parts share the student's output, so they are one cross-entropy against a mixed target.
      const target = distillation && temperature === 1 ? tf.tidy(() => tf.add(tf.mul(oneHot, 1 - distillation.weight), tf.mul(taught!, distillation.weight))) : oneHot;
      const loss = optimizer.minimize(() => tf.tidy(() => {
        const p = model.apply(xs, { training: true }) as tf.Tensor;
        const perBeat = distillation && temperature !== 1
          ? distillationLoss(p, oneHot, taught!, distillation.weight, temperature)
          : crossEntropy(target, p);
        const w = tf.sum(tf.mul(oneHot, classWeightTensor), -1);
        return tf.div(tf.sum(tf.mul(perBeat, w)), to - from) as tf.Scalar;
      }), true, varList)!;
      lossSum += loss.dataSync()[0] * (to - from);
      lossCount += to - from;
      // Without mixup the blended tensors are the batch's own (disposing one twice is a no-op); absent ones are skipped.
      tf.dispose([loss, target, oneHot, taught, labelsOneHot, teachersMean, ...xs, ...beats]);
      if (stepMean) addToMean(stepMean, model, step + 1);
      if (progress?.isTTY && (step % 10 === 0 || step === steps - 1)) {
        const done = Math.round(((step + 1) / steps) * 20);
        progress.write(`\repoch ${epoch}/${epochs} [${'='.repeat(done)}${' '.repeat(20 - done)}] ${Math.round(((step + 1) / steps) * 100)}% loss ${(lossSum / lossCount).toFixed(4)}`);
      }
    }
    const validation = evaluateIndices(model, inp, split, split.validation, withRr);
    const seconds = (performance.now() - epochStart) / 1000;
    const record: EpochRecord = { epoch, loss: lossSum / Math.max(1, lossCount), beats: lossCount, seconds, learningRate: epochLearningRate, validation };
    history.push(record);
    if (!refit) {
      if (validation.macroF1 > bestMetric) {
        bestMetric = validation.macroF1; stale = 0;
      } else {
        stale++;
        if (lrDecay.factor < 1 && stale % lrDecay.patience === 0 && currentLr > lrDecay.min) {
          setLearningRate(Math.max(lrDecay.min, currentLr * lrDecay.factor));
          progress?.write(`learning rate -> ${currentLr.toExponential(2)} (${stale} epochs without a better validation macro F1)\n`);
        }
      }
    }
    // The weights kept: a new best, or every epoch (so the last) for a refit's fixed schedule and for keep 'last' or
    // 'average' (this epoch's step mean).
    if (refit || keep !== 'best' || stale === 0) {
      bestEpoch = epoch;
      best = stepMean ?? model.getWeights().map((w) => w.dataSync().slice() as Float32Array);
    }
    const elapsed = elapsedBefore + (performance.now() - started) / 1000;
    const meanEpoch = history.reduce((a, h) => a + h.seconds, 0) / history.length;
    const classes = split.classes.map((c) => `${c} ${pct(validation.perClass[c].se)}/${pct(validation.perClass[c].ppv)}`).join('  ');
    const scores = refit ? `refit on training + validation, lr ${epochLearningRate.toExponential(2)}` : `val Se/+P % ${classes} | macroF1 ${validation.macroF1.toFixed(4)}${stale === 0 ? ' *' : ''}`;
    progress?.write(`${progress.isTTY ? '\r' : ''}epoch ${epoch}/${epochs} loss ${record.loss.toFixed(4)} | ${scores} | ${Math.round((lossCount / seconds) * 60)} beats/min, ${formatSeconds(seconds)}/epoch, ETA ${formatSeconds(meanEpoch * (epochs - epoch))}\n`);
    log.debug({ epoch, loss: record.loss, macroF1: validation.macroF1, seconds }, 'epoch');
    await mkdir(ckptDir, { recursive: true });
    await saveCheckpoint(ckptDir, model, optimizer, best, { fingerprint, epoch, rngState: rng.state, bestMetric, bestEpoch, epochsWithoutImprovement: stale, elapsedSeconds: elapsed, learningRate: currentLr, history });
    if (stopAfterEpoch !== undefined && epoch >= stopAfterEpoch) { stoppedBy = 'interrupted'; break; }
    if (stale >= patience) { stoppedBy = 'early-stopping'; break; }
    if (!refit && epoch < epochs && elapsed + meanEpoch > maxMinutes * 60) { stoppedBy = 'time-budget'; log.warn({ elapsed, maxMinutes }, 'time budget reached'); break; }
  }
  classWeightTensor.dispose();
  teachers.forEach((t) => t.model.dispose());

  setWeights(model, best);
  if (stoppedBy === 'interrupted') {
    return { outDir, manifest: undefined as unknown as ModelManifest, history, bestEpoch, stoppedBy, model };
  }
  const metrics: ModelManifest['metrics'] = {
    // The saved weights' validation figures: the kept epoch's, or for keep 'average' the averaged weights' own.
    validation: refit ? refit.search.validation
      : keep === 'average' && split.validation.length > 0 ? evaluateIndices(model, inp, split, split.validation, withRr)
      : history.find((h) => h.epoch === bestEpoch)?.validation,
    test: split.test.length > 0 ? evaluateIndices(model, inp, split, split.test, withRr) : undefined,
  };
  if (split.testLeakFree) metrics.testLeakFree = evaluateIndices(model, inp, split, split.testLeakFree, withRr);
  const totalSeconds = elapsedBefore + (performance.now() - started) / 1000;
  const trainedBeats = history.reduce((a, h) => a + h.beats, 0);
  const manifest: ModelManifest = {
    format: 'ecg-monitor-model', version: 1, name: outDir.split('/').filter(Boolean).pop() ?? kind, model: kind, protocol,
    classes: [...split.classes],
    input: { windowLength: ds.windowLength, samplesBefore: ds.samplesBefore, fsHz: ds.fsHz, featureNames: withRr ? ds.featureNames : [], usesRr: withRr, ...(usualBeat ? { usualBeat } : {}) },
    normalisation: withRr ? inp.normalisation : { ...inp.normalisation, featureMean: [], featureStd: [] },
    dataset: { dir: ds.dir, hash: ds.hash, counts: { train: split.train.length, validation: split.validation.length, test: split.test.length } },
    training: {
      size: options.size ?? null,
      epochsRun: history.length ? history[history.length - 1].epoch : 0, bestEpoch, stoppedBy, maxEpochs: epochs, batchSize, seed, learningRate,
      optimizer: 'adam', lrDecay, finalLearningRate: currentLr, balance,
      loss: !distillation ? 'categorical cross-entropy'
        : temperature === 1 ? `categorical cross-entropy against ${1 - distillation.weight} x the label + ${distillation.weight} x the teachers' mean probabilities`
        : `${1 - distillation.weight} x categorical cross-entropy against the label + ${distillation.weight} x ${temperature}² x cross-entropy between the teachers' mean and the student's probabilities, both softened at temperature ${temperature}`,
      ...(mixup ? { mixup: { alpha: mixup.alpha, description: `each batch blended with a shuffled copy of itself (inputs and targets), lambda ~ Beta(${mixup.alpha}, ${mixup.alpha}), one per batch (Zhang et al. 2018)` } } : {}),
      distillation: distillation ? { teachers: teachers.map((t) => ({ dir: t.dir, name: t.manifest.name, seed: t.manifest.training.seed ?? null, datasetHash: t.manifest.dataset.hash })), weight: distillation.weight, ...(temperature !== 1 ? { temperature } : {}) } : null,
      balanceDescription: balance === 'sampling'
        ? `class-balanced sampling: per epoch up to ${split.classes.map((c, i) => `${quotaOf(i)} ${c}`).join(', ')} training beats (each class repeated at most ${maxOversample}x${sharing ? `; within a class, record r's share proportional to its beats of the class to the power ${recordBalance}, each record repeated at most ${maxOversample}x` : ''}), no class weights`
        : balance === 'weights' ? 'every training beat once per epoch, inverse-frequency class weights in the loss'
        : protocol === 'seed' ? 'every training beat once per epoch (balanced by the protocol)' : 'every training beat once per epoch, natural class frequencies (no balancing)',
      classWeights: weights, perClassPerEpoch, maxOversample, majorityFactor, ...(sharing ? { recordBalance } : {}), classQuota: split.classes.map((c, i) => quotaOf(i)), augment: augment ?? null, windowNormalisation: windowMode, patience, earlyStopping: refit ? 'none (refit for a fixed number of epochs)' : 'validation macro F1', splitSeed: split.seed,
      // A refit replays the epochs its search run kept by this rule; the option is recorded as given.
      keep,
      interValidation: protocol === 'inter' ? options.interValidation ?? 'beats' : null, validationFold: split.validationFold,
      splitDescription: split.description, totalSeconds, trainedBeats, beatsPerMinute: totalSeconds > 0 ? (trainedBeats / totalSeconds) * 60 : 0,
      history: history.map((h) => ({ epoch: h.epoch, loss: h.loss, seconds: h.seconds, beats: h.beats, learningRate: h.learningRate, ...(refit ? {} : { macroF1: h.validation.macroF1, accuracy: h.validation.accuracy }) })),
      refit: refit ? { ...refit.search, learningRates: refit.learningRates, description: `refit from scratch on training + validation beats for the search run's ${refit.learningRates.length} epochs and learning rates; validation metrics are the search run's` } : null,
    },
    metrics, backend: tf.getBackend(), parameters: model.countParams(), createdAt: new Date().toISOString(),
  };
  await saveModel(model, outDir, manifest);
  if (!keepCheckpoints) await rm(ckptDir, { recursive: true, force: true });
  log.info({ outDir, bestEpoch, stoppedBy, totalSeconds: Math.round(totalSeconds) }, 'model written');
  return { outDir, manifest, history, bestEpoch, stoppedBy, model };
}

/**
 * Search, then refit: a normal run (early stopping on validation) into `<outDir>/search` picks the number of epochs
 * and the learning-rate schedule, then {@link trainModel} with `refit` trains a fresh model on training + validation
 * beats with that schedule into `<outDir>`. The validation beats thus also train the shipped model, which is what the
 * seed notebook does (it trains on its whole 80 %) and what small splits need most; the test beats stay unseen.
 * With `resume`, a finished search (its manifest.json) is reused and an interrupted phase continues from its
 * checkpoint. The search directory is removed once the refit is written.
 */
export async function trainWithRefit(options: TrainOptions): Promise<TrainResult> {
  // Teachers are checked against the training beats' normalisation, which the refit's extra beats change.
  if (options.teachers) throw new ConfigError('ECG_ERR_BAD_OPTION', 'train: --teacher and --refit do not go together (the refit trains on beats the teachers did not)');
  const searchDir = join(options.outDir, 'search');
  const searchManifest = join(searchDir, 'manifest.json');
  let search: ModelManifest;
  if (options.resume && existsSync(searchManifest)) {
    search = JSON.parse(await readFile(searchManifest, 'utf8')) as ModelManifest;
    const t = search.training as { seed?: number; validationFold?: number | null };
    // Manifests from before folds existed validated on fold 1 (or on the fixed records, for which no refit ran).
    const sameFold = (t.validationFold === undefined ? 1 : t.validationFold) === validationFoldOf(options.protocol, options);
    if (search.model !== options.model || search.protocol !== options.protocol || t.seed !== (options.seed ?? 1) || !sameFold) {
      throw new ModelError('ECG_ERR_MODEL', `${searchManifest}: search run of another model, protocol, seed or validation fold; remove ${searchDir} or train without --resume`);
    }
    options.progress?.write(`search run already finished (best epoch ${(search.training as { bestEpoch: number }).bestEpoch}): refitting\n`);
  } else {
    const result = await trainModel({ ...options, outDir: searchDir, refit: undefined });
    if (result.stoppedBy === 'interrupted') return result;
    result.model.dispose();
    search = result.manifest;
  }
  const t = search.training as { bestEpoch: number; epochsRun: number; stoppedBy: string; totalSeconds?: number; history: { epoch: number; learningRate?: number }[] };
  const learningRates = t.history.filter((h) => h.epoch <= t.bestEpoch).map((h) => h.learningRate ?? Number.NaN);
  if (learningRates.length !== t.bestEpoch || learningRates.some((lr) => !Number.isFinite(lr))) {
    throw new ModelError('ECG_ERR_MODEL', `${searchManifest}: no learning rate recorded for each of the ${t.bestEpoch} epochs to refit`);
  }
  options.progress?.write(`refit: ${t.bestEpoch} epochs on training + validation beats\n`);
  const result = await trainModel({
    ...options,
    refit: { learningRates, search: { bestEpoch: t.bestEpoch, epochsRun: t.epochsRun, stoppedBy: t.stoppedBy, totalSeconds: t.totalSeconds, ...search.metrics } },
  });
  if (result.stoppedBy !== 'interrupted') await rm(searchDir, { recursive: true, force: true });
  return result;
}
