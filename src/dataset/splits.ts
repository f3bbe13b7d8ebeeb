import { ConfigError } from '../errors.js';
import { BEAT_CLASSES } from '../types.js';
import { aamiClassOf, DS1_RECORDS, DS2_RECORDS, PACED_RECORDS, SEED_SYMBOLS } from './aamiClasses.js';
import { seededRandom, shuffleInPlace } from './seededRandom.js';

/** The three evaluation protocols of the model issue. */
export type Protocol = 'inter' | 'intra' | 'seed';
export const PROTOCOLS: readonly Protocol[] = ['inter', 'intra', 'seed'];

/** What a split needs to know of each stored beat. */
export interface SplitBeat {
  record: string;
  symbol: string;
}

/**
 * A protocol's view of the beat store: which stored beats train, validate and test, and each one's class index.
 * Indices point into the store; the seed protocol resamples with replacement, so an index may repeat.
 */
export interface ProtocolSplit {
  protocol: Protocol;
  /** Class names in label order: AAMI N S V F Q, or the seed notebook's N L R A V. */
  classes: readonly string[];
  /** Class index of every stored beat under this protocol; -1 where the beat is not used. */
  labels: Int8Array;
  train: number[];
  validation: number[];
  test: number[];
  /** Seed protocol only: the test indices whose beat does not also occur in train or validation. */
  testLeakFree?: number[];
  /** The validation fold (see SplitOptions.validationFold); null for the fixed held-out records INTER_VALIDATION_RECORDS. */
  validationFold: number | null;
  /** How each window is normalised before the model: the seed notebook z-scores each beat. */
  beatNormalisation: 'none' | 'zscore';
  seed: number;
  description: string;
}

export interface SplitOptions {
  /** Seed of every random choice. Default 20260127. */
  seed?: number;
  /** Share of the training beats held out for validation (early stopping). Default 0.1. */
  validationFraction?: number;
  /** Intra-patient and seed: share of the beats in the test set. Default 0.2. */
  testFraction?: number;
  /** Seed protocol: beats per class after resampling with replacement. Default 2546 (the reference notebook). */
  seedBeatsPerClass?: number;
  /**
   * Inter-patient: where validation beats come from — `beats`, a stratified share of all DS1 beats (default), or
   * `records`, whole DS1 records held out (INTER_VALIDATION_RECORDS), so that early stopping rewards what carries over
   * to patients the model has not seen, as the DS2 test asks.
   */
  interValidation?: 'beats' | 'records';
  /**
   * Which share of the training pool is the validation set: fold k of the round(1 / validationFraction) disjoint
   * shares (1-based; default 1, the split every earlier model used). Cross-validation trains one run per fold to judge
   * flags on more validation beats than one share holds; the test set is the same for every fold.
   * With `interValidation: 'records'`, fold k holds out the k-th of {@link INTER_RECORD_FOLDS} groups of DS1 records
   * instead (patient-wise cross-validation); without a fold, the fixed INTER_VALIDATION_RECORDS.
   */
  validationFold?: number;
}

/**
 * DS1 records held out for patient-wise validation: between them they hold S beats (118, 220, 223), V beats (223)
 * and a few F beats (223), while 209 (most of DS1's S beats) and 208 (most of its F beats) stay in training.
 */
export const INTER_VALIDATION_RECORDS: readonly string[] = ['118', '220', '223'];

/**
 * The validation fold a split with these options uses: `validationFold` (default 1), or null when inter-patient
 * validation by records is asked for without a fold (the fixed INTER_VALIDATION_RECORDS, which are no fold).
 */
export function validationFoldOf(protocol: Protocol, options: Pick<SplitOptions, 'interValidation' | 'validationFold'>): number | null {
  if (protocol === 'inter' && options.interValidation === 'records' && options.validationFold === undefined) return null;
  return options.validationFold ?? 1;
}

/** Patient-wise cross-validation: DS1's 22 records in this many groups of 4 or 5. */
export const INTER_RECORD_FOLDS = 5;

/**
 * DS1 records in {@link INTER_RECORD_FOLDS} groups for patient-wise validation, ectopic beats spread over the groups:
 * records sorted by their count of non-N beats (most first, ties by name) and dealt out in snake order
 * (1 2 3 4 5 5 4 3 2 1 1 2 ...), so that every group holds some of the S-, V- and F-rich records. Deterministic.
 */
export function interRecordFolds(beats: readonly SplitBeat[], labels: Int8Array): string[][] {
  const ectopic = new Map<string, number>(DS1_RECORDS.map((r) => [r, 0]));
  beats.forEach((beat, i) => {
    if (labels[i] > 0 && ectopic.has(beat.record)) ectopic.set(beat.record, ectopic.get(beat.record)! + 1);
  });
  const ordered = [...ectopic.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([record]) => record);
  const groups: string[][] = Array.from({ length: INTER_RECORD_FOLDS }, () => []);
  ordered.forEach((record, k) => {
    const round = Math.floor(k / INTER_RECORD_FOLDS);
    const position = k % INTER_RECORD_FOLDS;
    groups[round % 2 === 0 ? position : INTER_RECORD_FOLDS - 1 - position].push(record);
  });
  return groups.map((group) => group.sort());
}

/** The DS1 and DS2 records (the 44 non-paced ones every protocol draws on) that `records` lacks. */
export function missingProtocolRecords(records: Iterable<string>): string[] {
  const present = new Set(records);
  return [...DS1_RECORDS, ...DS2_RECORDS].filter((r) => !present.has(r));
}

/**
 * Refuses (ECG_ERR_BAD_OPTION) to train under a protocol's name on a dataset built for a few records (`dataset build
 * --records`): the model would claim a split no paper's matches. Scoring on such a dataset is left to the caller.
 */
export function checkProtocolRecords(records: Iterable<string>, protocol: Protocol): void {
  const missing = missingProtocolRecords(records);
  if (missing.length > 0) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `the ${protocol} protocol needs beats of all 44 non-paced MIT-BIH records (DS1 and DS2); this dataset lacks ${missing.length}: ${missing.slice(0, 8).join(' ')}${missing.length > 8 ? ' ...' : ''} (built with \`dataset build --records\`? rebuild it with all records)`);
  }
}

/**
 * Splits the stored beats for one protocol.
 * - `inter`: de Chazal's DS1 (train, validation drawn from DS1 beats only) / DS2 (test), AAMI classes, paced records out.
 * - `intra`: stratified random 80/20 split of all AAMI-labelled beats of the 44 non-paced records; validation from train.
 * - `seed`: the MSHAN notebook: classes N L R A V from all 48 records, each resampled with replacement to 2,546 beats,
 *   z-scored per beat, random 80/20 split; `testLeakFree` drops test beats that also landed in training.
 */
export function splitBeats(beats: readonly SplitBeat[], protocol: Protocol, options: SplitOptions = {}): ProtocolSplit {
  const { seed = 20260127, validationFraction = 0.1, testFraction = 0.2, seedBeatsPerClass = 2546, interValidation = 'beats' } = options;
  const byRecords = protocol === 'inter' && interValidation === 'records';
  const fold = validationFoldOf(protocol, options);
  const validationFold = fold ?? 1;
  for (const [name, value] of Object.entries({ validationFraction, testFraction })) {
    if (!(value > 0 && value < 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `splitBeats: ${name}=${value} must be in (0, 1)`);
  }
  const folds = byRecords ? INTER_RECORD_FOLDS : validationFoldCount(validationFraction);
  if (!Number.isInteger(validationFold) || validationFold < 1 || validationFold > folds) {
    const share = byRecords ? 'groups of DS1 records' : `validation share ${validationFraction}`;
    throw new ConfigError('ECG_ERR_BAD_OPTION', `splitBeats: validationFold=${validationFold} must be an integer in 1..${folds} (${share})`);
  }
  const foldSuffix = validationFold === 1 ? '' : `; validation fold ${validationFold} of ${folds}`;
  if (!Number.isInteger(seedBeatsPerClass) || seedBeatsPerClass < 1) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `splitBeats: seedBeatsPerClass=${seedBeatsPerClass} must be a positive integer`);
  }
  const random = seededRandom(seed);
  const labels = new Int8Array(beats.length).fill(-1);

  if (protocol === 'seed') {
    beats.forEach((beat, i) => (labels[i] = SEED_SYMBOLS.indexOf(beat.symbol)));
    const resampled: number[] = [];
    for (let label = 0; label < SEED_SYMBOLS.length; label++) {
      const members = indicesWhere(labels, (l) => l === label);
      if (members.length === 0) continue;
      for (let k = 0; k < seedBeatsPerClass; k++) resampled.push(members[Math.floor(random() * members.length)]);
    }
    shuffleInPlace(resampled, random);
    const testCount = Math.round(resampled.length * testFraction);
    const test = resampled.slice(0, testCount);
    const trainAll = resampled.slice(testCount);
    const [start, end] = foldBounds(trainAll.length, validationFraction, validationFold);
    const validation = trainAll.slice(start, end);
    const train = [...trainAll.slice(0, start), ...trainAll.slice(end)];
    const seen = new Set([...train, ...validation]);
    return {
      protocol, classes: SEED_SYMBOLS, labels, train, validation, test, testLeakFree: test.filter((i) => !seen.has(i)),
      beatNormalisation: 'zscore', seed, validationFold,
      description: `MSHAN notebook: N L R A V from all records, ${seedBeatsPerClass} per class resampled with replacement, per-beat z-score, random ${Math.round((1 - testFraction) * 100)}/${Math.round(testFraction * 100)} split${foldSuffix}`,
    };
  }

  const paced = new Set(PACED_RECORDS);
  beats.forEach((beat, i) => {
    const beatClass = paced.has(beat.record) ? undefined : aamiClassOf(beat.symbol);
    if (beatClass !== undefined) labels[i] = BEAT_CLASSES.indexOf(beatClass);
  });

  if (protocol === 'inter') {
    const ds1 = new Set(DS1_RECORDS);
    const ds2 = new Set(DS2_RECORDS);
    const trainAll = indicesWhere(labels, (l, i) => l >= 0 && ds1.has(beats[i].record));
    const test = indicesWhere(labels, (l, i) => l >= 0 && ds2.has(beats[i].record));
    if (byRecords) {
      const heldRecords = fold === null ? INTER_VALIDATION_RECORDS : interRecordFolds(beats, labels)[fold - 1];
      const held = new Set(heldRecords);
      return {
        protocol, classes: BEAT_CLASSES, labels, test, beatNormalisation: 'none', seed, validationFold: fold,
        train: trainAll.filter((i) => !held.has(beats[i].record)),
        validation: trainAll.filter((i) => held.has(beats[i].record)),
        description: `de Chazal inter-patient: train DS1 (validation: DS1 records ${heldRecords.join(', ')} held out${fold === null ? '' : `, patient fold ${fold} of ${folds}`}), test DS2; AAMI classes; paced records out`,
      };
    }
    const [validation, train] = stratifiedSplit(trainAll, labels, validationFraction, random, validationFold);
    return {
      protocol, classes: BEAT_CLASSES, labels, train, validation, test, beatNormalisation: 'none', seed, validationFold,
      description: `de Chazal inter-patient: train DS1 (validation from DS1 beats), test DS2; AAMI classes; paced records out${foldSuffix}`,
    };
  }

  if (protocol === 'intra') {
    const all = indicesWhere(labels, (l) => l >= 0);
    const [test, trainAll] = stratifiedSplit(all, labels, testFraction, random);
    const [validation, train] = stratifiedSplit(trainAll, labels, validationFraction, random, validationFold);
    return {
      protocol, classes: BEAT_CLASSES, labels, train, validation, test, beatNormalisation: 'none', seed, validationFold,
      description: `intra-patient: stratified random ${Math.round((1 - testFraction) * 100)}/${Math.round(testFraction * 100)} beat split of the 44 non-paced records; AAMI classes${foldSuffix}`,
    };
  }
  throw new ConfigError('ECG_ERR_BAD_OPTION', `splitBeats: unknown protocol "${String(protocol)}" (expected ${['inter', 'intra', 'seed'].join(', ')})`);
}

function indicesWhere(labels: Int8Array, keep: (label: number, index: number) => boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < labels.length; i++) if (keep(labels[i], i)) out.push(i);
  return out;
}

/** How many disjoint validation folds a validation share gives (10 for the default 0.1). */
export function validationFoldCount(validationFraction: number): number {
  return Math.max(1, Math.floor(1 / validationFraction + 1e-9));
}

/** Positions [start, end) of validation fold `fold` (1-based) in a pool of `length`: fold 1 is the first share. */
function foldBounds(length: number, fraction: number, fold: number): [number, number] {
  return [Math.round(length * fraction * (fold - 1)), Math.round(length * fraction * fold)];
}

/** `items` (beat indices) grouped by `keyOf`, each group in the order given, the groups in order of first appearance. */
export function groupBy<K>(items: Iterable<number>, keyOf: (item: number) => K): Map<K, number[]> {
  const groups = new Map<K, number[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group) group.push(item);
    else groups.set(key, [item]);
  }
  return groups;
}

/**
 * Splits `indices` into [a `fraction` share, the rest], the same share of every class, order kept within each part.
 * `fold` k picks the k-th such share of each class's shuffled members (the shuffle is the same for every fold).
 */
function stratifiedSplit(indices: readonly number[], labels: Int8Array, fraction: number, random: () => number, fold = 1): [number[], number[]] {
  const byClass = groupBy(indices, (i) => labels[i]);
  const picked = new Set<number>();
  for (const label of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffleInPlace([...byClass.get(label)!], random);
    for (const i of members.slice(...foldBounds(members.length, fraction, fold))) picked.add(i);
  }
  return [indices.filter((i) => picked.has(i)), indices.filter((i) => !picked.has(i))];
}
