/**
 * Saving and loading tfjs layers models as a directory, without tfjs-node's `file://` handler (absent here):
 * `model.json` (tfjs format: topology + weights manifest), `weights.bin` (the float32 weights, little-endian, in the
 * manifest's order) and `manifest.json` (what the model was trained on and how to feed it, see {@link ModelManifest}).
 * The weights file's SHA-256 sits in model.json (`userDefinedMetadata.weightsSha256`), so a corrupt or swapped
 * weights file is refused with a clear `ModelError` (code ECG_ERR_MODEL) instead of producing silent garbage.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.js';
import { registerCustomLayers } from './layers.js';

/** How raw inputs become model inputs; stored with the model so that inference feeds it exactly as training did. */
export interface InputNormalisation {
  /** `zscore`: each window minus its mean, over its standard deviation; `scale`: each window times `windowScale`. */
  window: 'zscore' | 'scale';
  /** Multiplier for `scale` (1 / the standard deviation of the training windows, mV^-1). */
  windowScale: number;
  /** Per-feature training mean and standard deviation; features are standardised then clipped to ±featureClip. */
  featureMean: number[];
  featureStd: number[];
  featureClip: number;
}

export interface ClassMetrics {
  /** Sensitivity (recall), 0..1; NaN when the class has no beats. */
  se: number;
  /** Positive predictivity (precision), 0..1; NaN when nothing was predicted as the class. */
  ppv: number;
  f1: number;
  support: number;
}

export interface SplitMetrics {
  accuracy: number;
  /** Macro F1 over the classes listed in `macroClasses`. */
  macroF1: number;
  macroClasses: string[];
  perClass: Record<string, ClassMetrics>;
  /** confusion[true][predicted], in class order. */
  confusion: number[][];
  count: number;
}

/** manifest.json of a model directory. */
export interface ModelManifest {
  format: 'ecg-monitor-model';
  version: 1;
  name: string;
  model: string;
  protocol: string;
  /** Class names in softmax order. */
  classes: string[];
  /** `usualBeat`: the network takes the stream's usual beat as a second window channel (absent: false). */
  input: { windowLength: number; samplesBefore: number; fsHz: number; featureNames: string[]; usesRr: boolean; usualBeat?: boolean };
  normalisation: InputNormalisation;
  dataset: { dir: string; hash: string; counts: { train: number; validation: number; test: number } };
  training: Record<string, unknown>;
  metrics: { validation?: SplitMetrics; test?: SplitMetrics; testLeakFree?: SplitMetrics };
  backend: string;
  parameters: number;
  createdAt: string;
}

interface ModelJson {
  modelTopology: object;
  format?: string;
  generatedBy?: string;
  convertedBy?: string | null;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  userDefinedMetadata?: { weightsSha256?: string };
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function writeAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

function joinWeightData(data: ArrayBuffer | ArrayBuffer[]): Uint8Array {
  if (!Array.isArray(data)) return new Uint8Array(data);
  const total = data.reduce((n, b) => n + b.byteLength, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const b of data) { out.set(new Uint8Array(b), o); o += b.byteLength; }
  return out;
}

/** Saves `model` to `dir` as model.json + weights.bin (+ manifest.json when given). */
export async function saveModel(model: tf.LayersModel, dir: string, manifest?: ModelManifest): Promise<void> {
  await mkdir(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = joinWeightData(artifacts.weightData as ArrayBuffer | ArrayBuffer[]);
      const json: ModelJson = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        userDefinedMetadata: { weightsSha256: sha256(weights) },
      };
      await writeAtomic(join(dir, 'weights.bin'), weights);
      await writeAtomic(join(dir, 'model.json'), JSON.stringify(json));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: weights.byteLength } };
    }),
  );
  if (manifest) await writeAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1 };

/**
 * Loads a model directory written by {@link saveModel}. Every failure — missing files, bad JSON, a weights file
 * whose size or SHA-256 does not match model.json, weights that do not fit the architecture — is a ModelError
 * (ECG_ERR_MODEL) that names the file.
 */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  registerCustomLayers();
  const jsonFile = join(dir, 'model.json');
  const binFile = join(dir, 'weights.bin');
  if (!existsSync(jsonFile)) throw new ModelError('ECG_ERR_MODEL', `${jsonFile}: model not found (train one with \`ecg-monitor train\`)`);
  let json: ModelJson;
  try {
    json = JSON.parse(await readFile(jsonFile, 'utf8')) as ModelJson;
  } catch (error) {
    throw new ModelError('ECG_ERR_MODEL', `${jsonFile}: not a valid model.json (${(error as Error).message})`, { cause: error });
  }
  if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
    throw new ModelError('ECG_ERR_MODEL', `${jsonFile}: not a tfjs layers model (no modelTopology / weightsManifest)`);
  }
  let weights: Buffer;
  try {
    weights = await readFile(binFile);
  } catch (error) {
    throw new ModelError('ECG_ERR_MODEL', `${binFile}: weights file missing or unreadable`, { cause: error });
  }
  const specs = json.weightsManifest.flatMap((g) => g.weights);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * (DTYPE_BYTES[s.dtype] ?? 4), 0);
  if (weights.byteLength !== expected) {
    throw new ModelError('ECG_ERR_MODEL', `${binFile}: ${weights.byteLength} bytes, but model.json describes ${specs.length} weight tensors of ${expected} bytes (truncated, or from another model)`);
  }
  const want = json.userDefinedMetadata?.weightsSha256;
  if (want !== undefined && sha256(weights) !== want) {
    throw new ModelError('ECG_ERR_MODEL', `${binFile}: SHA-256 does not match model.json (corrupt, or weights of another training run)`);
  }
  const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  try {
    return await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: specs, weightData }));
  } catch (error) {
    throw new ModelError('ECG_ERR_MODEL', `${dir}: weights do not fit the architecture in model.json (${(error as Error).message})`, { cause: error });
  }
}

const MODEL_NAMES_HINT = 'e.g. mshan-inter, cnn-inter, mshan-intra, mshan-seed';

/** Reads and checks a model directory's manifest.json. */
export async function loadManifest(dir: string): Promise<ModelManifest> {
  const file = join(dir, 'manifest.json');
  let manifest: ModelManifest;
  try {
    manifest = JSON.parse(await readFile(file, 'utf8')) as ModelManifest;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new ModelError('ECG_ERR_MODEL', `${dir}: no model there (no manifest.json); give a model folder, or the name of one under models/ (${MODEL_NAMES_HINT})`, { cause: error });
    }
    throw new ModelError('ECG_ERR_MODEL', `${file}: missing or not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (manifest.format !== 'ecg-monitor-model' || !Array.isArray(manifest.classes) || !manifest.normalisation || !manifest.input) {
    throw new ModelError('ECG_ERR_MODEL', `${file}: not an ecg-monitor model manifest (format, classes, input, normalisation required)`);
  }
  return manifest;
}

/** The model's weights as one flat Float32Array per weight, in model.getWeights() order (for checkpoints and tests). */
export function weightValues(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}
