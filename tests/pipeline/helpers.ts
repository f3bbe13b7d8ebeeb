import fc from 'fast-check';
import { config, from, lastValueFrom, toArray, type Observable, type OperatorFunction } from 'rxjs';
import { seededRandom } from '../../src/dataset/seededRandom.js';
import type { BeatClass, BeatClassification, SampleChunk } from '../../src/types.js';

/** Splits `samples` at `cuts` (sorted, deduplicated, inside the array) into chunks of one stream. */
export function chunksOf(samples: Float32Array, cuts: readonly number[], fsHz = 360, startSample = 0, aux?: Float32Array): SampleChunk[] {
  const points = [0, ...[...new Set(cuts)].filter((c) => c > 0 && c < samples.length).sort((a, b) => a - b), samples.length];
  const out: SampleChunk[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const a = points[i]!, b = points[i + 1]!;
    const chunk: SampleChunk = { streamId: 'test/1', startSample: startSample + a, fsHz, lead: 'MLII', samples: samples.slice(a, b) };
    if (aux) chunk.auxLeads = [{ lead: 'V5', samples: aux.slice(a, b) }];
    out.push(chunk);
  }
  return out;
}

export function run<T>(chunks: readonly SampleChunk[], op: OperatorFunction<SampleChunk, T>): Promise<T[]> {
  return lastValueFrom(from(chunks).pipe(op, toArray()));
}

/** Concatenates the primary-lead samples of chunks. */
export function concat(chunks: readonly SampleChunk[], lead = -1): Float32Array {
  const parts = chunks.map((c) => (lead < 0 ? c.samples : c.auxLeads![lead]!.samples));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Random cut points for an array of length n (fast-check arbitrary). */
export const cutsArb = (n: number): fc.Arbitrary<number[]> => fc.array(fc.integer({ min: 1, max: n - 1 }), { maxLength: 40 });

export type { Observable };

/**
 * Synthetic ECG at `fsHz`: narrow Gaussian QRS (1 mV, sigma 10 ms) at `beats` (sample indices), a T wave (0.3 mV,
 * sigma 40 ms) 250 ms later, baseline wander (0.3 mV at 0.2 Hz) and a little deterministic noise.
 */
export function syntheticEcg(n: number, beats: readonly number[], fsHz = 360): Float32Array {
  const x = new Float32Array(n);
  const sq = (fsHz * 10) / 1000;
  const st = (fsHz * 40) / 1000;
  const tOff = Math.round((fsHz * 250) / 1000);
  let seed = 12345;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    x[i] = 0.3 * Math.sin((2 * Math.PI * 0.2 * i) / fsHz) + 0.01 * (seed / 2147483648 - 0.5);
  }
  for (const b of beats) {
    for (let k = -5 * st; k <= 5 * st; k++) {
      const i = Math.round(b + k);
      if (i < 0 || i >= n) continue;
      x[i] += Math.exp(-0.5 * (k / sq) ** 2) - 0.15 * Math.exp(-0.5 * ((k - 2.5 * sq) / sq) ** 2);
      const j = i + tOff;
      if (j < n) x[j] += 0.3 * Math.exp(-0.5 * (k / st) ** 2);
    }
  }
  return x;
}

/**
 * Feeds `good` chunks, then a malformed one (no `samples`, as a JavaScript caller might send) to `op`. Returns what
 * arrived on the error channel and what RxJS reported as unhandled (a throw inside a next handler that escaped).
 */
export async function malformedChunkOutcome<T>(good: readonly SampleChunk[], op: OperatorFunction<SampleChunk, T>): Promise<{ error: unknown; unhandled: unknown[] }> {
  const unhandled: unknown[] = [];
  const saved = config.onUnhandledError;
  config.onUnhandledError = (e: unknown) => unhandled.push(e);
  try {
    const last = good[good.length - 1]!;
    const bad = { ...last, startSample: last.startSample + last.samples.length, samples: undefined } as unknown as SampleChunk;
    const error = await lastValueFrom(from([...good, bad]).pipe(op)).then(
      () => undefined,
      (e: unknown) => e,
    );
    await new Promise((resolve) => setTimeout(resolve, 10)); // RxJS reports unhandled errors asynchronously
    return { error, unhandled };
  } finally {
    config.onUnhandledError = saved;
  }
}

/** A 360-sample beat at 360 Hz: a Gaussian QRS of `width` samples at sample 180, a small P and a T wave; `invert` makes a V-like beat. */
export function beatShape(options: { width?: number; height?: number; invert?: boolean; pWave?: boolean; noise?: () => number } = {}): Float32Array {
  const { width = 8, height = 1, invert = false, pWave = true, noise = () => 0 } = options;
  const x = new Float32Array(360);
  for (let j = 0; j < 360; j++) {
    const qrs = height * Math.exp(-(((j - 180) / width) ** 2));
    const p = pWave ? 0.15 * Math.exp(-(((j - 120) / 12) ** 2)) : 0;
    const t = 0.3 * Math.exp(-(((j - 280) / 25) ** 2));
    x[j] = (invert ? -qrs : qrs) + p + t + noise();
  }
  return x;
}

/** `samples` moved `by` samples later (the first ones repeated): the same beat, its mark fallen earlier in its QRS. */
export function shiftedBy(samples: Float32Array, by: number): Float32Array {
  return Float32Array.from(samples, (_, j) => samples[Math.max(0, j - by)]);
}

/**
 * A classified beat with its 360-sample window, for the rules after the model: the `i`-th beat of its stream, 300
 * samples apart. `probabilities` gives the model's ranking (the class a rule falls back to).
 */
export function classifiedBeat(i: number, beatClass: BeatClass, samples: Float32Array, probabilities: number[], streamId = 's'): BeatClassification {
  return { streamId, sampleIndex: 1000 + 300 * i, fsHz: 360, beatClass, probabilities, model: 'm', window: { samples, samplesBefore: 180, paddedSamples: 0, fsHz: 360 } };
}

/**
 * {@link classifiedBeat} with the model's ranking set per call: `whenGated` for a call of `gated` (the class the rule
 * under test may rule out), `otherwise` for any other call.
 */
export function classifiedWithRanking(gated: BeatClass, whenGated: number[], otherwise: number[]) {
  return (i: number, beatClass: BeatClass, samples: Float32Array, streamId = 's'): BeatClassification =>
    classifiedBeat(i, beatClass, samples, beatClass === gated ? whenGated : otherwise, streamId);
}

/**
 * {@link beatShape}s with seeded noise (0.01 peak to peak), for the rules' tests: the usual sinus beat, the same
 * without its P wave (an atrial premature beat), and a wide, inverted, taller QRS (ventricular or aberrant).
 */
export function noisyBeats(seed: number) {
  const random = seededRandom(seed);
  const noise = () => 0.01 * (random() - 0.5);
  return {
    noise,
    usual: () => beatShape({ noise }),
    withoutPWave: () => beatShape({ pWave: false, noise }),
    wide: () => beatShape({ invert: true, width: 20, height: 1.5, noise }),
  };
}
