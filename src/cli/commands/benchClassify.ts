import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Observable } from 'rxjs';
import { defaultModelDir } from '../../config.js';
import { ConfigError, ModelError } from '../../errors.js';
import { log } from '../../log.js';
import { quantile } from '../../quantile.js';
import type { BeatDataset } from '../../model/dataset.js';
import type { BeatClassification } from '../../types.js';
import { BACKEND_NAMES, type BackendName } from '../../model/names.js';
import { commaList, newCommand, positiveNumber, type CliIo } from '../io.js';
import type { BenchSuite } from './bench.js';

export interface BenchClassifyFlags {
  model?: string;
  json?: string;
  backends?: string;
  seconds: number;
  train: boolean;
}

/** Figures for one backend. */
export interface BackendBench {
  backend: BackendName;
  beatsPerSecondBatch64: number;
  beatsPerSecondBatch1: number;
  singleBeatP50Ms: number;
  singleBeatP99Ms: number;
  /** Beats per minute of training steps (batch 64, Adam, the training loss), or null with --no-train. */
  trainingBeatsPerMinute: number | null;
  tensorBytes: number;
  rssMb: number;
  heapUsedMb: number;
}

/** A backend that was asked for (or, without --backends, tried) but cannot run here, and why. */
export interface SkippedBackend {
  backend: BackendName;
  reason: string;
}

/** The model `bench classify` measures. */
export interface BenchModelInfo {
  /** Model directory, or null for the untrained MSHAN. */
  dir: string | null;
  name: string;
  /** Weights of the model (trainable and not), as `model.countParams()` counts them. */
  parameters: number;
}

/**
 * What `bench classify` measures. The top-level figures (`beatsPerSecondBatch64`, `singleBeatP99Ms`,
 * `singleBeatP50Ms`, `beatsPerSecondBatch1`, `trainingBeatsPerMinute`) are those of `figuresBackend`, which is always
 * the default backend (the one serve and eval use here); when --backends left the default backend out, they are absent,
 * `figuresBackend` is null and `figuresNote` says so (the measured backends' figures are in `backends`).
 */
export interface BenchClassifyResult {
  defaultBackend: BackendName;
  /** The backend the top-level figures come from (= `defaultBackend`), or null when it was not measured. */
  figuresBackend: BackendName | null;
  /** Why the top-level figures are absent, when `figuresBackend` is null. */
  figuresNote?: string;
  beatsPerSecondBatch64?: number;
  singleBeatP99Ms?: number;
  singleBeatP50Ms?: number;
  beatsPerSecondBatch1?: number;
  trainingBeatsPerMinute?: number | null;
  /** CPU cost of a beat's features in the live stream (compareToTemplate + beatFeatureVector), microseconds. */
  featuresMicrosPerBeat: number;
  /** CPU cost of the rules after the classifier (rulesAfterModel, every rule on), microseconds. */
  rulesMicrosPerBeat: number;
  model: BenchModelInfo;
  /** The measured backends, in the order tensorflow, wasm, cpu. */
  backends: BackendBench[];
  /** Backends asked for (or, without --backends, known) that cannot run on this machine; never measured. */
  skippedBackends: SkippedBackend[];
  machine: { cpus: number; cpuModel?: string; node: string; wasmThreads: number };
  createdAt: string;
}

/**
 * The backends a --backends value names, deduplicated, in the order tensorflow, wasm, cpu.
 * @throws ConfigError ECG_ERR_BAD_OPTION for a name that is not a backend, or an empty list
 */
export function parseBackendList(value: string): BackendName[] {
  const names = commaList(value);
  const unknown = names.filter((n) => !BACKEND_NAMES.includes(n as BackendName));
  if (unknown.length > 0 || names.length === 0) {
    const what = names.length === 0 ? 'names no backend' : `has unknown backend${unknown.length > 1 ? 's' : ''} ${unknown.map((n) => `"${n}"`).join(', ')}`;
    throw new ConfigError('ECG_ERR_BAD_OPTION', `bench classify --backends "${value}" ${what} (valid: ${BACKEND_NAMES.join(', ')})`);
  }
  return BACKEND_NAMES.filter((b) => names.includes(b));
}

/**
 * The model `bench classify` measures, from its manifest (name, and the parameter count training recorded, which
 * loadClassifier checks against the network), so the report names it whichever backends run. Without `modelDir`: the
 * untrained MSHAN, built on the active backend.
 */
export async function describeBenchModel(modelDir: string | undefined): Promise<BenchModelInfo> {
  if (modelDir === undefined) {
    const { buildModel } = await import('../../model/models.js');
    const model = buildModel('mshan', 8, 1);
    const parameters = model.countParams();
    model.dispose();
    return { dir: null, name: 'mshan (untrained)', parameters };
  }
  const { loadManifest } = await import('../../model/modelIo.js');
  const manifest = await loadManifest(modelDir);
  return { dir: modelDir, name: manifest.name, parameters: manifest.parameters };
}

/**
 * Measures beat classifier speed per available TensorFlow.js backend — beats/s at batch 64 and batch 1, single-beat
 * latency p50/p99 (the live monitor's path: one beat in, probabilities out, including input normalisation), training
 * beats/min, memory. Uses `flags.model` (default models/mshan-inter if present, else an untrained MSHAN with the same
 * architecture: speed does not depend on the weights).
 *
 * `flags.backends` must name known backends (else ConfigError ECG_ERR_BAD_OPTION, a usage error); a named backend that
 * cannot run here is skipped with a warning and listed in `skippedBackends`; when none of them can run, ModelError
 * ECG_ERR_MODEL (no empty result).
 */
export async function benchClassify(flags: BenchClassifyFlags, io: CliIo): Promise<BenchClassifyResult> {
  // Checked before TensorFlow.js loads: a bad name is a usage error, whatever this machine has.
  const wanted = flags.backends === undefined ? undefined : parseBackendList(flags.backends);
  const { backendFailure, initBackend, trySetBackend, tf } = await import('../../model/backend.js');
  const { loadClassifier, classifyBatch, classifyBeat } = await import('../../model/predict.js');
  const { buildModel } = await import('../../model/models.js');
  const { syntheticDataset } = await import('../../model/dataset.js');
  const defaultBackend = await initBackend(undefined, io.env);
  const backends: BackendName[] = [];
  const skippedBackends: SkippedBackend[] = [];
  for (const backend of wanted ?? BACKEND_NAMES) {
    if (await trySetBackend(backend)) backends.push(backend);
    else skippedBackends.push({ backend, reason: backendFailure(backend) ?? `the ${backend} backend did not initialise` });
  }
  await trySetBackend(defaultBackend);
  if (backends.length === 0) {
    throw new ModelError(
      'ECG_ERR_MODEL',
      `bench classify: none of the requested backends can run here (${skippedBackends.map((s) => `${s.backend}: ${s.reason}`).join('; ')}); ` +
        `the default backend here is ${defaultBackend}`,
    );
  }
  for (const { backend, reason } of skippedBackends) {
    // Asked for by name: a warning; merely absent from this machine (no --backends): information.
    if (wanted) log.warn({ backend, reason }, `bench classify: skipping backend ${backend}: ${reason}`);
    else log.info({ backend, reason }, `bench classify: backend ${backend} not available: ${reason}`);
  }
  const modelDir = flags.model ?? (existsSync(join(defaultModelDir(), 'model.json')) ? defaultModelDir() : undefined);
  // Described once, from the model's files, not by whichever backend loaded it last.
  const modelInfo = await describeBenchModel(modelDir);
  const data = syntheticDataset({ beatsPerRecord: 64, records: ['100', '101'], seed: 7 });
  // The synthetic beats are centred windows at MIT-BIH's rate.
  const geometry = { windowLength: data.windowLength, samplesBefore: data.windowLength / 2, fsHz: 360 };
  const L = geometry.windowLength;
  const results: BackendBench[] = [];

  for (const backend of backends) {
    await trySetBackend(backend);
    const budgetMs = flags.seconds * 1000 * (backend === 'cpu' ? 0.2 : 1);
    const classifier = modelDir
      ? await loadClassifier(modelDir)
      : {
        dir: '', model: buildModel('mshan', 8, 1),
        manifest: {
          classes: ['N', 'S', 'V', 'F', 'Q'], input: { ...geometry, featureNames: data.featureNames, usesRr: true },
          normalisation: { window: 'scale', windowScale: 1, featureMean: new Array(8).fill(0), featureStd: new Array(8).fill(1), featureClip: 10 },
        } as never,
      };
    const F = classifier.manifest.input.featureNames.length;
    const windows64 = data.windows.subarray(0, 64 * L);
    const features64 = F > 0 ? data.features.subarray(0, 64 * F) : new Float32Array(0);
    // A model trained with --usual-beat also takes each beat's usual beat: its normalisation and channel are timed too.
    const usual64 = classifier.manifest.input.usualBeat ? data.usualBeats!.subarray(0, 64 * L) : undefined;
    const usualOf = (k: number) => usual64?.subarray(k * L, (k + 1) * L);

    // Batch 64: whole classifyBatch calls (normalisation + tensors + model + read-back).
    for (let i = 0; i < 3; i++) classifyBatch(classifier, windows64, features64, { usualBeats: usual64 });
    let beats = 0;
    let t0 = performance.now();
    while (performance.now() - t0 < budgetMs) { classifyBatch(classifier, windows64, features64, { usualBeats: usual64 }); beats += 64; }
    const beatsPerSecondBatch64 = (beats / (performance.now() - t0)) * 1000;

    // Batch 1: the streaming path, one beat at a time; latency per call.
    const latencies: number[] = [];
    for (let i = 0; i < 20; i++) classifyBeat(classifier, windows64.subarray(0, L), features64.subarray(0, F), usualOf(0));
    t0 = performance.now();
    for (let i = 0; performance.now() - t0 < budgetMs || latencies.length < 50; i++) {
      const k = i % 64;
      const s = performance.now();
      classifyBeat(classifier, windows64.subarray(k * L, (k + 1) * L), features64.subarray(k * F, (k + 1) * F), usualOf(k));
      latencies.push(performance.now() - s);
    }
    const beatsPerSecondBatch1 = (latencies.length / (performance.now() - t0)) * 1000;
    latencies.sort((a, b) => a - b);

    // Training: Adam steps of batch 64 with the training loss, on a fresh model of the same architecture.
    let trainingBeatsPerMinute: number | null = null;
    if (flags.train) {
      const kind = (classifier.manifest as { model?: string }).model ?? 'mshan';
      const model = buildModel(kind as never, F, 1);
      const optimizer = tf.train.adam(1e-3);
      const varList = model.trainableWeights.map((w) => w.read() as import('@tensorflow/tfjs').Variable);
      const xs = [tf.tensor3d(windows64, [64, L, 1]), ...(model.inputs.length > 1 ? [tf.tensor2d(features64, [64, F])] : [])];
      const y = tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % 5), 'int32'), 5).toFloat();
      const step = () => {
        const loss = optimizer.minimize(() => tf.tidy(() => {
          const p = model.apply(xs, { training: true }) as import('@tensorflow/tfjs').Tensor;
          return tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(p, 1e-7, 1))), -1))) as import('@tensorflow/tfjs').Scalar;
        }), true, varList)!;
        loss.dataSync();
        loss.dispose();
      };
      step();
      let steps = 0;
      t0 = performance.now();
      while (performance.now() - t0 < budgetMs || steps < 2) { step(); steps++; }
      trainingBeatsPerMinute = ((steps * 64) / (performance.now() - t0)) * 60000;
      tf.dispose([...xs, y]);
      optimizer.dispose();
      model.dispose();
    }
    const mem = process.memoryUsage();
    results.push({
      backend, beatsPerSecondBatch64, beatsPerSecondBatch1, singleBeatP50Ms: quantile(latencies, 0.5), singleBeatP99Ms: quantile(latencies, 0.99),
      trainingBeatsPerMinute, tensorBytes: tf.memory().numBytes, rssMb: mem.rss / 2 ** 20, heapUsedMb: mem.heapUsed / 2 ** 20,
    });
    classifier.model.dispose();
  }
  await trySetBackend(defaultBackend);
  const featuresMicrosPerBeat = await timeBeatFeatures({ windows: data.windows, ...geometry }, flags.seconds);
  const rulesMicrosPerBeat = await timeRulesAfterModel({ windows: data.windows, ...geometry }, flags.seconds);
  // The top level holds the default backend's figures or none: never another backend's under the default's name.
  const main = results.find((r) => r.backend === defaultBackend);
  const top = main
    ? {
      figuresBackend: main.backend, beatsPerSecondBatch64: main.beatsPerSecondBatch64, singleBeatP99Ms: main.singleBeatP99Ms, singleBeatP50Ms: main.singleBeatP50Ms,
      beatsPerSecondBatch1: main.beatsPerSecondBatch1, trainingBeatsPerMinute: main.trainingBeatsPerMinute,
    }
    : {
      figuresBackend: null,
      figuresNote: `no top-level figures: the default backend ${defaultBackend} was not among --backends ${backends.join(',')}; see "backends" for theirs`,
    };
  return {
    defaultBackend, ...top,
    featuresMicrosPerBeat, rulesMicrosPerBeat, model: modelInfo, backends: results, skippedBackends,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, wasmThreads: 1 },
    createdAt: new Date().toISOString(),
  };
}

/** Microseconds per beat of the stream's feature stage, over `seconds`, on windows cycled from `data`. */
async function timeBeatFeatures(data: Pick<BeatDataset, 'windows' | 'windowLength' | 'samplesBefore' | 'fsHz'>, seconds: number): Promise<number> {
  const { map } = await import('rxjs');
  const { compareToTemplate } = await import('../../pipeline/compareToTemplate.js');
  const { beatFeatureVector } = await import('../../pipeline/beatFeatures.js');
  const { windows, windowLength: L, samplesBefore, fsHz } = data;
  const available = windows.length / L;
  const beats = Array.from({ length: 2000 }, (_, i) => ({
    streamId: 'bench', sampleIndex: 1000 + 300 * i, fsHz, samplesBefore, paddedSamples: 0,
    samples: windows.slice((i % available) * L, (i % available + 1) * L),
    rr: { previousRrMs: 800, nextRrMs: 800, localMeanRrMs: 800, recordMeanRrMs: 800, localVariationRrMs: 0 },
  }));
  return microsPerItem(beats, (beats$) => beats$.pipe(compareToTemplate(), map((beat) => beatFeatureVector(beat))), seconds);
}

/**
 * The rules after the classifier, as serve runs them (rulesAfterModel, every rule on), on classified beats at
 * irregular RR intervals (so that every beat's rhythm is judged), a fifth of them called V (so that the V gates
 * look at them), µs per beat.
 */
async function timeRulesAfterModel(data: Pick<BeatDataset, 'windows' | 'windowLength' | 'samplesBefore' | 'fsHz'>, seconds: number): Promise<number> {
  const { monitorRules, rulesAfterModel } = await import('../../pipeline/rulesAfterModel.js');
  const { seededRandom } = await import('../../dataset/seededRandom.js');
  const { windows, windowLength: L, samplesBefore, fsHz } = data;
  const available = windows.length / L;
  const random = seededRandom(1);
  const rrMs = Array.from({ length: 2001 }, () => 1000 * (0.45 + 0.6 * random()));
  let sampleIndex = 0;
  const classes = ['N', 'N', 'N', 'S', 'V'] as const;
  const beats: BeatClassification[] = Array.from({ length: 2000 }, (_, i) => ({
    streamId: 'bench', sampleIndex: (sampleIndex += Math.round((fsHz * rrMs[i]) / 1000)), fsHz,
    beatClass: classes[Math.floor(random() * classes.length)], probabilities: [0.5, 0.25, 0.2, 0.05, 0], model: 'bench',
    window: { samples: windows.slice((i % available) * L, (i % available + 1) * L), samplesBefore, paddedSamples: 0, fsHz },
    rr: { previousRrMs: rrMs[i], nextRrMs: rrMs[i + 1], localMeanRrMs: 750, recordMeanRrMs: 750, localVariationRrMs: 200 },
  }));
  return microsPerItem(beats, rulesAfterModel(monitorRules()), seconds);
}

/** Runs `items` through `stage` repeatedly for about `seconds`; CPU µs per item. */
async function microsPerItem<T, R>(items: T[], stage: (items$: Observable<T>) => Observable<R>, seconds: number): Promise<number> {
  const { from, lastValueFrom, count } = await import('rxjs');
  let done = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000 || done === 0) done += await lastValueFrom(stage(from(items)).pipe(count()));
  return ((performance.now() - t0) * 1000) / done;
}

/** The people's table of a {@link BenchClassifyResult}. */
export function benchClassifyTable(r: BenchClassifyResult): string {
  const cols = ['backend', 'beats/s b64', 'beats/s b1', 'p50 ms', 'p99 ms', 'train beats/min', 'rss MB'];
  const line = (cells: string[]) => `${cells.map((c, i) => (i === 0 ? c.padEnd(10) : c.padStart(16))).join('')}\n`;
  const notMeasured = r.figuresBackend === null ? ' (not measured: not in --backends)' : '';
  let out = `classify: model ${r.model.name} (${r.model.parameters} parameters), default backend ${r.defaultBackend}${notMeasured}\n` + line(cols);
  for (const b of r.backends) {
    out += line([b.backend, b.beatsPerSecondBatch64.toFixed(0), b.beatsPerSecondBatch1.toFixed(0), b.singleBeatP50Ms.toFixed(2), b.singleBeatP99Ms.toFixed(2), b.trainingBeatsPerMinute === null ? '-' : b.trainingBeatsPerMinute.toFixed(0), b.rssMb.toFixed(0)]);
  }
  for (const s of r.skippedBackends ?? []) out += `${s.backend.padEnd(10)} skipped: ${s.reason}\n`;
  return out + `features (template + RR) per beat: ${r.featuresMicrosPerBeat.toFixed(0)} us; rules after the model (AF detection, the S and V gates, the morphology vote): ${r.rulesMicrosPerBeat.toFixed(0)} us\n`;
}

/** `bench classify` as a suite of `ecg-monitor bench` (main.ts: `benchCommand(io, [...DEFAULT_BENCH_SUITES, classifyBenchSuite])`). */
export const classifyBenchSuite: BenchSuite<BenchClassifyFlags, BenchClassifyResult> = {
  name: 'classify',
  description: 'beat classifier speed per TensorFlow.js backend: beats/s at batch 1 and 64, latency p50/p99, training beats/min',
  addOptions: (cmd) =>
    cmd
      .option('--model <dir>', 'model directory (default: models/mshan-inter if present, else an untrained MSHAN)')
      .option('--backends <list>', `comma-separated backends to measure, of ${BACKEND_NAMES.join(', ')} (default: all that run here); the JSON's top-level figures are the default backend's, absent if it is left out`)
      .option('--seconds <s>', 'measuring time per figure and backend, s (cpu gets a fifth of it)', positiveNumber, 3)
      .option('--no-train', 'skip the training-speed figure')
      .addHelpText('after', '\nExample:\n  ecg-monitor bench classify --json bench-classify.json\n'),
  run: benchClassify,
  table: benchClassifyTable,
};

/** `ecg-monitor bench classify` on its own (the same suite as a standalone command, with --json FILE). */
export function benchClassifyCommand(io: CliIo): Command {
  return classifyBenchSuite
    .addOptions(newCommand('classify', io).description(classifyBenchSuite.description))
    .option('--json <file>', 'also write the result as JSON to FILE')
    .action(async (flags: BenchClassifyFlags) => {
      const result = await benchClassify(flags, io);
      io.stdout.write(benchClassifyTable(result));
      if (flags.json !== undefined) await writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
    });
}
