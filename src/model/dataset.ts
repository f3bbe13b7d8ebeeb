/**
 * Reads a beat dataset directory (written by `ecg-monitor dataset build`, or by {@link writeDataset} for synthetic data).
 *
 * ## Layout of a dataset directory (all numbers little-endian; N beats, L samples per window, F RR features)
 * ```
 * DIR/manifest.json   {
 *                       "count": N,                      // required
 *                       "windowLength": 360,             // L; default 360 (180 before + 180 after the R-peak at 360 Hz)
 *                       "samplesBefore": 180,            // default L/2
 *                       "fsHz": 360,                     // default 360
 *                       "featureNames": ["previousRrS", ...],   // F names; F may be 0 (then features.f32 may be absent)
 *                       "classes": ["N","S","V","F","Q"], // order of labels.u8; default AAMI N S V F Q
 *                       "hash": "sha256:...",            // content hash; if absent, the loader hashes the files itself
 *                       "records": ["100", ...],         // optional: names that beats.recordIndex points into
 *                       "beats": { ... }                 // optional: the per-beat table, else in beats.json
 *                     }
 * DIR/windows.f32     N x L float32, row-major: beat i = floats [i*L, (i+1)*L), band-passed mV
 * DIR/features.f32    N x F float32, row-major (RR features, same order as featureNames)
 * DIR/labels.u8       N uint8: class index into `classes`; 255 = not an AAMI-labelled beat (optional when symbols exist)
 * DIR/beats.json      the per-beat table, column-wise (preferred) or as an array of objects:
 *                     { "record": ["100", ...] | "recordIndex": [0, ...],   // N entries
 *                       "sample": [370, ...],                             // N entries, R-peak sample in the record
 *                       "symbol": ["N", ...] }                            // N entries, MIT-BIH beat code ('' if none)
 *                     or [{ "record": "100", "sample": 370, "symbol": "N" }, ...]
 * DIR/usual-beats.f32 (optional) N x L float32: each beat's usual beat (compareToTemplate's template before it), for
 *                     models with `--usual-beat`; outside the content hash (models trained before it existed keep their
 *                     dataset hash), checked against its own hash, manifest "usualBeats": { "file", "hash" }
 * DIR/splits.json     (dataset build, all MIT-BIH records) each protocol's default split as beat indices, for readers;
 *                     not read here: train and eval recompute it from record and symbol (src/dataset/buildDataset.ts)
 * ```
 * `symbol` is what the protocols split on (src/dataset/splits.ts): the seed protocol needs the original N/L/R/A/V codes,
 * so it cannot run from AAMI labels alone. When symbols are missing the loader derives AAMI-class symbols from
 * labels.u8 (N S V F Q), which serves `inter` and `intra` but not `seed`.
 *
 * Every inconsistency (sizes that disagree with `count`, missing files, bad JSON) is a `ModelError` with code
 * ECG_ERR_MODEL naming the file.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SeededRandom } from '../dataset/seededRandom.js';
import { ModelError } from '../errors.js';
import { from } from 'rxjs';
import { compareToTemplate } from '../pipeline/compareToTemplate.js';
import { BEAT_CLASSES, type BeatWindow } from '../types.js';

export interface BeatDataset {
  dir: string;
  count: number;
  windowLength: number;
  samplesBefore: number;
  fsHz: number;
  featureNames: string[];
  featureCount: number;
  classes: string[];
  /** N x windowLength. */
  windows: Float32Array;
  /** N x featureCount. */
  features: Float32Array;
  /** Class index per beat into `classes`, 255 = unlabelled. */
  labels: Uint8Array;
  record: string[];
  sample: Int32Array;
  /** MIT-BIH beat code per beat ('' for none). */
  symbol: string[];
  /** True when `symbol` came from the file (not derived from labels). */
  hasSymbols: boolean;
  /** Content hash ("sha256:<hex>"), from the manifest or computed. */
  hash: string;
  manifest: Record<string, unknown>;
  /** N x windowLength usual beats, when held in memory (tests); a loaded dataset reads them on demand (loadUsualBeats). */
  usualBeats?: Float32Array;
}

function fail(file: string, message: string, cause?: unknown): never {
  throw new ModelError('ECG_ERR_MODEL', `${file}: ${message}`, cause === undefined ? undefined : { cause });
}

async function readJson(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    fail(file, 'cannot read the file', error);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    fail(file, `not valid JSON (${(error as Error).message})`, error);
  }
}

async function readBinary(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    fail(file, 'cannot read the file', error);
  }
}

function float32s(file: string, buf: Buffer, expected: number): Float32Array {
  if (buf.byteLength !== expected * 4) fail(file, `holds ${buf.byteLength} bytes, expected ${expected * 4} (${expected} float32)`);
  const out = new Float32Array(expected);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < expected; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

type BeatsTable = { record?: unknown; recordIndex?: unknown; sample?: unknown; symbol?: unknown } | unknown[];

/** Loads and checks a dataset directory (layout in the module comment). */
export async function loadDataset(dir: string): Promise<BeatDataset> {
  const manifestFile = join(dir, 'manifest.json');
  if (!existsSync(manifestFile)) fail(manifestFile, 'no dataset here (manifest.json missing); build one with `ecg-monitor dataset build`');
  const manifest = (await readJson(manifestFile)) as Record<string, unknown>;
  const count = Number(manifest.count ?? manifest.beatCount ?? manifest.n);
  if (!Number.isInteger(count) || count < 0) fail(manifestFile, `"count" must be a non-negative integer, got ${JSON.stringify(manifest.count)}`);
  const windowLength = Number(manifest.windowLength ?? manifest.windowSamples ?? 360);
  const samplesBefore = Number(manifest.samplesBefore ?? Math.floor(windowLength / 2));
  const fsHz = Number(manifest.fsHz ?? 360);
  const featureNames = Array.isArray(manifest.featureNames) ? (manifest.featureNames as unknown[]).map(String) : [];
  const featureCount = Number(manifest.featureCount ?? featureNames.length);
  const classes = Array.isArray(manifest.classes) ? (manifest.classes as unknown[]).map(String) : [...BEAT_CLASSES];

  const windowsFile = join(dir, 'windows.f32');
  const windowsBuf = await readBinary(windowsFile);
  const windows = float32s(windowsFile, windowsBuf, count * windowLength);
  const featuresFile = join(dir, 'features.f32');
  const featuresBuf = featureCount > 0 ? await readBinary(featuresFile) : Buffer.alloc(0);
  const features = float32s(featuresFile, featuresBuf, count * featureCount);

  const labelsFile = join(dir, 'labels.u8');
  let labels: Uint8Array | undefined;
  let labelsBuf: Buffer | undefined;
  if (existsSync(labelsFile)) {
    labelsBuf = await readBinary(labelsFile);
    if (labelsBuf.byteLength !== count) fail(labelsFile, `holds ${labelsBuf.byteLength} bytes, expected ${count} (one uint8 per beat)`);
    labels = new Uint8Array(labelsBuf);
  }

  const beatsFile = join(dir, 'beats.json');
  const table = (manifest.beats ?? (existsSync(beatsFile) ? await readJson(beatsFile) : undefined)) as BeatsTable | undefined;
  const where = manifest.beats !== undefined ? manifestFile : beatsFile;
  const record = new Array<string>(count).fill('');
  const sample = new Int32Array(count).fill(-1);
  const symbol = new Array<string>(count).fill('');
  let hasSymbols = false;
  if (Array.isArray(table)) {
    if (table.length !== count) fail(where, `beat table has ${table.length} entries, expected ${count}`);
    table.forEach((row, i) => {
      const r = row as Record<string, unknown>;
      record[i] = String(r.record ?? '');
      sample[i] = Number(r.sample ?? r.sampleIndex ?? -1);
      if (typeof r.symbol === 'string') { symbol[i] = r.symbol; hasSymbols = true; }
    });
  } else if (table !== undefined) {
    const column = (name: string, value: unknown): unknown[] | undefined => {
      if (value === undefined) return undefined;
      if (!Array.isArray(value) || value.length !== count) fail(where, `"${name}" must be an array of ${count} entries`);
      return value;
    };
    const records = Array.isArray(manifest.records) ? (manifest.records as unknown[]).map(String) : [];
    const rec = column('record', table.record);
    const recIdx = column('recordIndex', table.recordIndex);
    if (rec) rec.forEach((r, i) => (record[i] = String(r)));
    else if (recIdx) recIdx.forEach((r, i) => (record[i] = records[Number(r)] ?? String(r)));
    const smp = column('sample', table.sample);
    if (smp) smp.forEach((s, i) => (sample[i] = Number(s)));
    const sym = column('symbol', table.symbol);
    if (sym) { sym.forEach((s, i) => (symbol[i] = String(s ?? ''))); hasSymbols = true; }
  }
  if (!hasSymbols) {
    if (!labels) fail(dir, 'neither beat symbols (beats.json "symbol") nor labels.u8: no labels to train on');
    // AAMI class names are valid MIT-BIH symbols of their own class (N, S, V, F, Q), so splitBeats maps them back.
    for (let i = 0; i < count; i++) symbol[i] = labels[i] < classes.length ? classes[labels[i]] : '';
  }
  if (!labels) {
    labels = new Uint8Array(count).fill(255);
  }
  let hash = typeof manifest.hash === 'string' ? manifest.hash : typeof manifest.contentHash === 'string' ? manifest.contentHash : '';
  if (hash === '') {
    hash = datasetContentHash(windowsBuf, featuresBuf, labelsBuf ?? new Uint8Array(0), JSON.stringify({ record, sample: Array.from(sample), symbol }));
  }
  return { dir, count, windowLength, samplesBefore, fsHz, featureNames, featureCount, classes, windows, features, labels, record, sample, symbol, hasSymbols, hash, manifest };
}

export const USUAL_BEATS_FILE = 'usual-beats.f32';

/**
 * Loads DIR/usual-beats.f32 (N x L, beside the windows) and checks it against the manifest's own hash for it; a dataset
 * built before usual beats were stored is an error saying how to rebuild it.
 */
export async function loadUsualBeats(ds: Pick<BeatDataset, 'dir' | 'count' | 'windowLength' | 'manifest'>): Promise<Float32Array> {
  const file = join(ds.dir, USUAL_BEATS_FILE);
  const entry = ds.manifest.usualBeats as { hash?: unknown } | undefined;
  if (!entry || !existsSync(file)) fail(file, 'this dataset holds no usual beats (built before they were stored): rebuild it with `ecg-monitor dataset build --force`');
  const buf = await readBinary(file);
  if (sha256(buf) !== entry.hash) fail(file, 'does not match its hash in manifest.json: the dataset changed after it was built; rebuild it with `ecg-monitor dataset build --force`');
  return float32s(file, buf, ds.count * ds.windowLength);
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/**
 * The content hash of a dataset: sha256 over windows.f32, features.f32, labels.u8 and the beats.json text, in that
 * order, as `sha256:<hex>`. One definition for the writer, the loader and the builder's staleness check.
 */
export function datasetContentHash(windows: Uint8Array, features: Uint8Array, labels: Uint8Array, beatsJson: string): string {
  return `sha256:${createHash('sha256').update(windows).update(features).update(labels).update(beatsJson).digest('hex')}`;
}

/** What {@link writeDataset} needs. */
export interface DatasetContent {
  windowLength: number;
  featureNames: string[];
  windows: Float32Array;
  features: Float32Array;
  record: string[];
  sample: ArrayLike<number>;
  symbol: string[];
  labels?: Uint8Array;
  /** N x windowLength: each beat's usual beat (compareToTemplate), written to usual-beats.f32 when given. */
  usualBeats?: Float32Array;
  extra?: Record<string, unknown>;
}

/** Writes a dataset directory in the layout above (little-endian on every host); returns its content hash. */
export async function writeDataset(dir: string, content: DatasetContent): Promise<string> {
  const count = content.record.length;
  await mkdir(dir, { recursive: true });
  const le = (values: Float32Array): Buffer => {
    const buf = Buffer.alloc(values.length * 4);
    for (let i = 0; i < values.length; i++) buf.writeFloatLE(values[i], i * 4);
    return buf;
  };
  const windowsBuf = le(content.windows);
  const featuresBuf = le(content.features);
  const labels = content.labels ?? Uint8Array.from(content.symbol, (s) => { const k = BEAT_CLASSES.indexOf(s as never); return k >= 0 ? k : 255; });
  const beats = { record: content.record, sample: Array.from(content.sample), symbol: content.symbol };
  const hash = datasetContentHash(windowsBuf, featuresBuf, labels, JSON.stringify(beats));
  await writeFile(join(dir, 'windows.f32'), windowsBuf);
  await writeFile(join(dir, 'features.f32'), featuresBuf);
  await writeFile(join(dir, 'labels.u8'), labels);
  await writeFile(join(dir, 'beats.json'), JSON.stringify(beats));
  let usualBeats: { file: string; hash: string } | undefined;
  if (content.usualBeats) {
    if (content.usualBeats.length !== content.windows.length) throw new ModelError('ECG_ERR_MODEL', `writeDataset: ${content.usualBeats.length} usual-beat samples for ${content.windows.length} window samples`);
    const usualBuf = le(content.usualBeats);
    await writeFile(join(dir, USUAL_BEATS_FILE), usualBuf);
    usualBeats = { file: USUAL_BEATS_FILE, hash: sha256(usualBuf) };
  }
  const manifest = {
    count, windowLength: content.windowLength, samplesBefore: content.windowLength / 2, fsHz: 360, featureNames: content.featureNames,
    classes: [...BEAT_CLASSES], hash, ...(usualBeats ? { usualBeats } : {}), ...content.extra,
  };
  await writeFile(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return hash;
}

export interface SyntheticOptions {
  /** Beats per record. Default 200. */
  beatsPerRecord?: number;
  /** Records to spread the beats over (names matter: the inter protocol splits by de Chazal's DS1/DS2). */
  records?: readonly string[];
  seed?: number;
  windowLength?: number;
}

/**
 * A synthetic beat dataset for development and tests (never for reported results): each class has its own waveform
 * (N narrow QRS, S narrow QRS with a premature RR, V wide inverted QRS, F in between, Q noise-like), plus noise; the
 * 8 RR features follow src/pipeline/rrFeatures.ts's order with class-dependent prematurity. Symbols are MIT-BIH codes:
 * N and L for N, A for S, V for V, F for F, Q for Q — so the seed protocol (which needs L and R) finds N, L, A, V only.
 */
export function syntheticDataset(options: SyntheticOptions = {}): DatasetContent {
  const { beatsPerRecord = 200, seed = 1, windowLength = 360 } = options;
  const records = options.records ?? ['101', '106', '108', '109', '112', '114', '100', '103', '105', '111', '113', '117'];
  const rng = new SeededRandom(seed);
  const random = () => rng.next();
  const gauss = () => rng.normal();
  const count = beatsPerRecord * records.length;
  const windows = new Float32Array(count * windowLength);
  const featureNames = ['previousRrS', 'nextRrS', 'localMeanRrS', 'recordMeanRrS', 'previousOverLocal', 'nextOverLocal', 'previousOverNext', 'localOverRecord'];
  const features = new Float32Array(count * featureNames.length);
  const record: string[] = [];
  const sample: number[] = [];
  const symbol: string[] = [];
  const mid = windowLength / 2;
  let i = 0;
  for (const name of records) {
    const meanRr = 0.7 + 0.3 * random();
    for (let b = 0; b < beatsPerRecord; b++, i++) {
      const u = random();
      const cls = u < 0.6 ? 'N' : u < 0.72 ? 'S' : u < 0.87 ? 'V' : u < 0.95 ? 'F' : 'Q';
      const sym = cls === 'N' ? (random() < 0.5 ? 'N' : 'L') : cls === 'S' ? 'A' : cls;
      const width = cls === 'V' ? 14 : cls === 'F' ? 9 : 4;
      const amp = cls === 'V' ? -1.2 : 1;
      for (let s = 0; s < windowLength; s++) {
        const d = s - mid;
        let v = amp * Math.exp(-(d * d) / (2 * width * width));
        v += 0.15 * Math.exp(-((d - 90) ** 2) / 800) + (cls === 'S' ? 0 : 0.1 * Math.exp(-((d + 60) ** 2) / 200));
        v += (cls === 'Q' ? 0.4 : 0.05) * gauss();
        windows[i * windowLength + s] = v;
      }
      const prev = meanRr * (cls === 'S' || cls === 'V' ? 0.65 : 1) * (1 + 0.05 * gauss());
      const next = meanRr * (cls === 'V' ? 1.35 : 1) * (1 + 0.05 * gauss());
      const local = meanRr * (1 + 0.02 * gauss());
      const f = [prev, next, local, meanRr, prev / local, next / local, prev / next, local / meanRr];
      features.set(f, i * featureNames.length);
      record.push(name);
      sample.push(400 + b * 300);
      symbol.push(sym);
    }
  }
  return { windowLength, featureNames, windows, features, record, sample, symbol, usualBeats: usualBeatsOfWindows(windows, windowLength, record) };
}

/**
 * The usual beat of each of `windows` (N x windowLength, clean, in stream order; `streamIds` per window), computed by
 * the live stream's own operator (compareToTemplate), for data that was not cut by the pipeline.
 */
export function usualBeatsOfWindows(windows: Float32Array, windowLength: number, streamIds: readonly string[]): Float32Array {
  const out = new Float32Array(windows.length);
  const beats = streamIds.map((streamId, i) => ({
    streamId, sampleIndex: i, fsHz: 360, samples: windows.subarray(i * windowLength, (i + 1) * windowLength), samplesBefore: windowLength / 2, paddedSamples: 0,
  }) as BeatWindow);
  let i = 0;
  from(beats).pipe(compareToTemplate()).subscribe((beat) => out.set(beat.usualBeat!, windowLength * i++));
  return out;
}
