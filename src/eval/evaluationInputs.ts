import { createHash } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { defaultDatasetDir, mitdbDir } from '../config.js';
import { DS2_RECORDS } from '../dataset/aamiClasses.js';
import { buildDataset } from '../dataset/buildDataset.js';
import type { BeatPositions } from '../dataset/extractBeats.js';
import type { Protocol } from '../dataset/splits.js';
import { ConfigError } from '../errors.js';
import { loadDataset, type BeatDataset } from '../model/dataset.js';
import type { ModelManifest } from '../model/modelIo.js';
import type { TestSelection } from './beatsEvaluation.js';
import { listRecords } from './qrsDatabase.js';

export interface EvaluationInputsOptions {
  /** Test protocol on MIT-BIH (ignored with `dir`). */
  protocol: Protocol;
  /** Beat positions: reference annotations, or the project's detector (end to end: whole DS2 records). */
  positions: BeatPositions;
  /** Split seed the model was trained with (manifest `training.splitSeed`); default: the split module's. */
  splitSeed?: number;
  /** Another WFDB database: every beat of `records` is a test beat. Default: MIT-BIH (`mitdbDir(env)`). */
  dir?: string;
  /** With `dir`: 'all' (its RECORDS file) or record names. Default 'all'. */
  records?: 'all' | readonly string[];
  /** Lead to window. Default MLII. */
  lead?: string | number;
  env?: NodeJS.ProcessEnv;
  /** Progress of a dataset build, per record. */
  onRecord?: (done: number, total: number, record: string) => void;
}

export interface EvaluationInputs {
  /** Folder of the WFDB records (reference annotations and headers). */
  dir: string;
  /** Folder of the cached beat dataset. */
  datasetDir: string;
  /** True when the cached dataset was reused (not rebuilt). */
  reused: boolean;
  dataset: BeatDataset;
  test: TestSelection;
}

/**
 * The cache folder of another database's beat dataset: `$XDG_CACHE_HOME/ecg-monitor/datasets/<folder name>-<lead>-
 * <positions>-<8 hex digits>`, the digits the start of the SHA-256 of the database's absolute path. The folder name keeps
 * it readable; the hash keeps two databases with the same folder name (`a/db`, `b/db`) from sharing one cache and
 * rebuilding each other's.
 */
export function otherDatabaseDatasetDir(dir: string, lead: string | number, positions: BeatPositions, env: NodeJS.ProcessEnv = process.env): string {
  const absolute = resolve(dir);
  const pathHash = createHash('sha256').update(absolute).digest('hex').slice(0, 8);
  return join(dirname(defaultDatasetDir(positions, env)), `${basename(absolute)}-${lead}-${positions}-${pathHash}`);
}

/**
 * Where the beats of an evaluation come from, as `eval beats` chooses them: the cached beat dataset of MIT-BIH (or of
 * another WFDB database with `dir`), built by replaying the records through the live pipeline's operators when the
 * cache is missing or stale (buildDataset checks its input and content hashes), and the test selection — the
 * protocol's test split at reference positions, or whole DS2 records end to end (detector positions), or every beat
 * of the listed records of another database.
 */
export async function prepareEvaluationInputs(options: EvaluationInputsOptions): Promise<EvaluationInputs> {
  const { protocol, positions, splitSeed, lead = 'MLII', env = process.env, onRecord } = options;
  let dir: string;
  let datasetDir: string;
  let test: TestSelection;
  let records: readonly string[];
  if (options.dir !== undefined) {
    dir = resolve(options.dir);
    records = options.records === undefined || options.records === 'all' ? await listRecords(dir) : options.records;
    datasetDir = otherDatabaseDatasetDir(dir, lead, positions, env);
    test = { kind: 'records', records };
  } else {
    dir = mitdbDir(env);
    records = await listRecords(dir);
    datasetDir = lead === 'MLII' ? defaultDatasetDir(positions, env) : `${defaultDatasetDir(positions, env)}-${lead}`;
    if (positions === 'detector') {
      if (protocol !== 'inter') throw new ConfigError('ECG_ERR_USAGE', 'end to end (--positions detector) is scored on whole test records: use --protocol inter or --dir');
      test = { kind: 'records', records: DS2_RECORDS };
    } else {
      test = { kind: 'protocol', protocol, splitSeed };
    }
  }
  const built = await buildDataset({ dir, records, out: datasetDir, positions, lead, onRecord });
  const dataset = await loadDataset(datasetDir);
  return { dir, datasetDir, reused: built.reused, dataset, test };
}

/**
 * A protocol's split is recomputed from the dataset, so a model trained on a dataset with other content (other
 * positions, lead or records) may find its own training beats among the test beats: said, not silently scored.
 */
export function staleDatasetWarnings(manifests: readonly Pick<ModelManifest, 'name' | 'dataset'>[], datasetHash: string, test: TestSelection): string[] {
  if (test.kind !== 'protocol') return [];
  return manifests.filter((m) => m.dataset.hash !== datasetHash).map((m) =>
    `warning: ${m.name} was trained on dataset ${m.dataset.hash.slice(0, 19)}, scored on ${datasetHash.slice(0, 19)}: the test split may hold training beats (rebuild the dataset with the model's settings, or retrain)`);
}
