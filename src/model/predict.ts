/**
 * Inference: raw beat windows and RR features in, class probabilities out, normalised exactly as in training
 * (the model directory's manifest.json says how). Every tensor made here is disposed: `tf.memory().numTensors` is the
 * same before and after each call (tests/model/predict.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { ModelError } from '../errors.js';
import { loadManifest, loadModel, type InputNormalisation, type ModelManifest } from './modelIo.js';

/** A loaded model with what it needs to be fed. */
export interface Classifier {
  model: tf.LayersModel;
  manifest: ModelManifest;
  dir: string;
}

/** Loads `dir` (model.json, weights.bin, manifest.json) and checks that the manifest fits the model's inputs. */
export async function loadClassifier(dir: string): Promise<Classifier> {
  const manifest = await loadManifest(dir);
  const model = await loadModel(dir);
  const mismatch = networkMismatch(model, manifest);
  if (mismatch) {
    model.dispose();
    throw new ModelError('ECG_ERR_MODEL', `${dir}: model.json does not match manifest.json (${mismatch}): the network is not the one the manifest describes`);
  }
  return { model, manifest, dir };
}

/**
 * How `model` differs from the network `manifest` describes (inputs, features, classes, parameter count), or
 * undefined when it is that network. The manifest decides how inputs are prepared and what the outputs mean: a network
 * from another folder (copied over, or half-written) must not be run under it, even when it happens to accept the inputs.
 */
function networkMismatch(model: tf.LayersModel, manifest: ModelManifest): string | undefined {
  const { usesRr, windowLength, featureNames } = manifest.input;
  const channels = windowChannels(manifest);
  if (model.inputs.length !== (usesRr ? 2 : 1) || model.inputs[0].shape[1] !== windowLength || model.inputs[0].shape[2] !== channels) {
    return `inputs ${model.inputs.map((i) => JSON.stringify(i.shape)).join(', ')}, the manifest's window of ${windowLength} samples${channels === 2 ? ' beside the usual beat' : ''}${usesRr ? ` and ${featureNames.length} features` : ''}`;
  }
  if (usesRr && model.inputs[1].shape[1] !== featureNames.length) return `${String(model.inputs[1].shape[1])} features in, the manifest's ${featureNames.length}`;
  if (model.outputs[0].shape[1] !== manifest.classes.length) return `${String(model.outputs[0].shape[1])} classes out, the manifest's ${manifest.classes.length} (${manifest.classes.join(' ')})`;
  if (typeof manifest.parameters === 'number' && model.countParams() !== manifest.parameters) return `${model.countParams()} parameters, the manifest's ${manifest.parameters} (${manifest.model})`;
  return undefined;
}

/** Window channels a model takes: 2 when it sees the stream's usual beat beside the window, else 1. */
export function windowChannels(manifest: Pick<ModelManifest, 'input'>): number {
  return manifest.input.usualBeat ? 2 : 1;
}

/**
 * `windows` normalised as `norm` says, then each of `alongside` (arrays of the same shape: the beats' usual beats) with
 * its beat's parameters, not its own, so that a beat twice its usual beat's size still looks so; each beat's mean and
 * sd are computed once for all of them. New arrays, `windows`' first; NaN samples become 0.
 */
export function normaliseWindows(windows: Float32Array, windowLength: number, norm: InputNormalisation, ...alongside: Float32Array[]): Float32Array[] {
  const sources = [windows, ...alongside];
  const outs = sources.map((source) => new Float32Array(source.length));
  const n = windows.length / windowLength;
  for (let b = 0; b < n; b++) {
    const o = b * windowLength;
    let offset = 0, scale = norm.windowScale;
    if (norm.window === 'zscore') {
      let s = 0, s2 = 0, m = 0;
      for (let j = 0; j < windowLength; j++) { const v = windows[o + j]; if (Number.isFinite(v)) { s += v; s2 += v * v; m++; } }
      offset = m > 0 ? s / m : 0;
      const sd = Math.sqrt(Math.max(0, m > 0 ? s2 / m - offset * offset : 0));
      scale = sd > 1e-6 ? 1 / sd : 1;
    }
    sources.forEach((source, k) => {
      const out = outs[k];
      for (let j = 0; j < windowLength; j++) { const v = source[o + j]; out[o + j] = Number.isFinite(v) ? (v - offset) * scale : 0; }
    });
  }
  return outs;
}

/** Interleaves window rows and usual-beat rows (each N x L) into N x L x 2, the layout of a two-channel input. */
export function interleaveChannels(windows: Float32Array, usual: Float32Array): Float32Array {
  const out = new Float32Array(windows.length * 2);
  for (let j = 0; j < windows.length; j++) { out[2 * j] = windows[j]; out[2 * j + 1] = usual[j]; }
  return out;
}

/** Features standardised with the training mean and std, non-finite values set to the mean, clipped to ±featureClip. */
export function normaliseFeatures(features: Float32Array, featureCount: number, norm: InputNormalisation): Float32Array {
  const out = new Float32Array(features.length);
  if (featureCount === 0) return out;
  for (let i = 0; i < features.length; i++) {
    const f = i % featureCount;
    const v = features[i];
    const z = Number.isFinite(v) ? (v - (norm.featureMean[f] ?? 0)) / (norm.featureStd[f] ?? 1) : 0;
    out[i] = Math.max(-norm.featureClip, Math.min(norm.featureClip, z));
  }
  return out;
}

export interface ClassifyOptions {
  /** Beats per model call. Default 64 (tfjs's predict would use 32). */
  batchSize?: number;
  /** N x windowLength raw usual beats (compareToTemplate), for a model whose manifest says `input.usualBeat`. */
  usualBeats?: Float32Array;
}

/**
 * Class probabilities of many beats: `windows` N x windowLength (raw band-passed mV), `features` N x F raw RR features
 * (ignored by models without RR input). Returns N x classCount probabilities, row-major, in `manifest.classes` order.
 */
export function classifyBatch(classifier: Classifier, windows: Float32Array, features: Float32Array, options: ClassifyOptions = {}): Float32Array {
  const { model, manifest } = classifier;
  const L = manifest.input.windowLength;
  const F = manifest.input.featureNames.length;
  const K = manifest.classes.length;
  if (windows.length % L !== 0) throw new ModelError('ECG_ERR_MODEL', `classifyBatch: ${windows.length} samples is not a whole number of ${L}-sample windows`);
  const n = windows.length / L;
  if (manifest.input.usesRr && features.length !== n * F) throw new ModelError('ECG_ERR_MODEL', `classifyBatch: ${features.length} feature values for ${n} beats, expected ${n * F} (${F} per beat)`);
  const C = windowChannels(manifest);
  const { usualBeats } = options;
  if (C === 2 && usualBeats?.length !== windows.length) {
    throw new ModelError('ECG_ERR_MODEL', `classifyBatch: ${classifier.dir || manifest.name} takes each beat's usual beat beside its window (train --usual-beat): ${usualBeats ? `${usualBeats.length} usual-beat samples for ${windows.length} window samples` : 'none given (monitorPipeline\'s compareToTemplate makes them)'}`);
  }
  const [normalised, usual] = normaliseWindows(windows, L, manifest.normalisation, ...(C === 2 ? [usualBeats!] : []));
  const w = usual ? interleaveChannels(normalised, usual) : normalised;
  const f = manifest.input.usesRr ? normaliseFeatures(features, F, manifest.normalisation) : undefined;
  const out = new Float32Array(n * K);
  const batchSize = options.batchSize ?? 64;
  for (let from = 0; from < n; from += batchSize) {
    const to = Math.min(n, from + batchSize);
    const probs = tf.tidy(() => {
      const xs: tf.Tensor[] = [tf.tensor3d(w.subarray(from * L * C, to * L * C), [to - from, L, C])];
      if (f) xs.push(tf.tensor2d(f.subarray(from * F, to * F), [to - from, F]));
      return model.apply(xs, { training: false }) as tf.Tensor;
    });
    out.set(probs.dataSync() as Float32Array, from * K);
    probs.dispose();
  }
  return out;
}

/** The streaming path: one beat's probabilities (classCount values); `usualBeat` for a model that takes it. */
export function classifyBeat(classifier: Classifier, window: Float32Array, features: Float32Array, usualBeat?: Float32Array): Float32Array {
  return classifyBatch(classifier, window, features, { batchSize: 1, usualBeats: usualBeat });
}

/** Index of the largest value of each `classCount`-wide row. */
export function argmaxRows(probabilities: Float32Array, classCount: number): Int32Array {
  const n = probabilities.length / classCount;
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classCount; c++) if (probabilities[i * classCount + c] > probabilities[i * classCount + best]) best = c;
    out[i] = best;
  }
  return out;
}
