import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { BeatWindow, TemplateFeatures } from '../types.js';

export interface CompareToTemplateOptions {
  /** Past clean beats the template is the sample-wise median of. Default 32. */
  templateBeats?: number;
  /** Beats the template needs before it is compared against (earlier beats get NaN features). Default 8. */
  minBeats?: number;
}

/**
 * How far the rules after the model let a beat's QRS shift against a template (the usual beat, a morphology cluster's)
 * before comparing shapes, in ms either way: where in its QRS a beat's mark falls varies from beat to beat, for the
 * reference annotations and for the detector alike. The model's template features compare at the mark (no shift).
 *
 * Chosen before its DS1 and DS2 runs (models/EXPERIMENTS.md, "A QRS comparison that lets the mark shift"): on held-out
 * DS1 patients, with all the rules, V +P rose from 86.8 to 87.5 % and V Se from 89.4 to 89.6 %.
 */
export const QRS_MAX_LAG_MS = 20;

/**
 * Regions of the window compared with the template, in ms from the R-peak. The P wave sits 250-70 ms before the R
 * peak at normal PR intervals, the QRS complex within about ±80 ms, the T wave 110-420 ms after it.
 */
export const TEMPLATE_REGIONS_MS = {
  p: [-250, -70],
  qrs: [-80, 80],
  t: [110, 420],
} as const;

const EMPTY: TemplateFeatures = { qrsCorrelation: NaN, pCorrelation: NaN, tCorrelation: NaN, qrsAmplitudeRatio: NaN, qrsResidual: NaN };

/**
 * Compares each beat with its own stream's recent normal morphology: the sample-wise median of the last
 * `templateBeats` clean windows (a median, so that ectopic beats — fewer than half of them — do not shape it).
 * What a V beat looks like differs from patient to patient, but that it differs from the patient's own usual beat
 * does not: these features carry what a classifier trained on other patients cannot learn from the window alone
 * (the "patient-adapted" features of Llamedo & Martínez 2012, computed here without any labels).
 *
 * Each beat is compared with the template of the beats *before* it, then joins it, so the features are causal and
 * the live stream computes them exactly as the dataset builder does. Windows with padded samples (record edges,
 * gaps) are compared but do not join the template. Streams are kept apart by `streamId`.
 *
 * The template itself travels on as `usualBeat` (a copy; the beat's own samples until the template holds `minBeats`
 * beats), for models that take the usual beat as a second input channel (`train --usual-beat`).
 *
 * Features (see TemplateFeatures): Pearson correlations over the P, QRS and T regions, the QRS peak-to-peak ratio,
 * and the QRS residual RMS relative to the template's peak-to-peak. NaN until the template holds `minBeats` beats,
 * and for a flat region.
 *
 * Reference: Llamedo M, Martínez JP. An automatic patient-adapted ECG heartbeat classifier allowing expert
 * assistance. IEEE Trans Biomed Eng 2012;59(8):2312-20. doi:10.1109/TBME.2012.2202662
 */
export function compareToTemplate(options: CompareToTemplateOptions = {}): OperatorFunction<BeatWindow, BeatWindow> {
  const { templateBeats = 32, minBeats = 8 } = options;
  checkTemplateSize('compareToTemplate', templateBeats, minBeats);
  return (beats$) => {
    // Per subscription: two subscribers to the same operator never share a template.
    const templates = new StreamTemplates(templateBeats);
    return beats$.pipe(
      map((beat) => {
        const state = templates.of(beat.streamId, beat.samples.length);
        const template = state.count >= minBeats ? state.median() : undefined;
        const features = template ? compareWindows(beat, template) : EMPTY;
        const usualBeat = template ? template.slice() : beat.samples.slice();
        if (isCleanWindow(beat)) state.push(beat.samples);
        return { ...beat, template: features, usualBeat };
      }),
    );
  };
}

/** Whether a window may shape a usual beat: no padded samples (record edges, gaps) and every sample finite. */
export function isCleanWindow(window: Pick<BeatWindow, 'samples' | 'paddedSamples'>): boolean {
  return window.paddedSamples === 0 && window.samples.every(Number.isFinite);
}

/** One {@link MedianTemplate} per stream (`streamId`), started afresh when the stream's window length changes. */
export class StreamTemplates {
  private readonly streams = new Map<string, MedianTemplate>();

  constructor(private readonly templateBeats: number) {}

  of(streamId: string, windowLength: number): MedianTemplate {
    let template = this.streams.get(streamId);
    if (!template || template.length !== windowLength) this.streams.set(streamId, (template = new MedianTemplate(this.templateBeats, windowLength)));
    return template;
  }
}

/** Throws ConfigError unless `templateBeats` is a positive integer and `minBeats` an integer in 1..templateBeats. */
export function checkTemplateSize(operator: string, templateBeats: number, minBeats: number): void {
  if (!Number.isInteger(templateBeats) || templateBeats < 1) throw new ConfigError('ECG_ERR_BAD_OPTION', `${operator}: templateBeats=${templateBeats} must be a positive integer`);
  if (!Number.isInteger(minBeats) || minBeats < 1 || minBeats > templateBeats) throw new ConfigError('ECG_ERR_BAD_OPTION', `${operator}: minBeats=${minBeats} must be an integer in 1..${templateBeats}`);
}

/** Throws ConfigError unless the correlation threshold `value` (option `name` of `operator`) is in (-1, 1]. */
export function checkCorrelationThreshold(operator: string, name: string, value: number): void {
  if (!(value > -1 && value <= 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `${operator}: ${name}=${value} must be in (-1, 1]`);
}

/** Throws ConfigError unless `maxLagMs` (how far a QRS may shift, QRS_MAX_LAG_MS) is a finite number >= 0. */
export function checkMaxLagMs(operator: string, maxLagMs: number): void {
  if (!(maxLagMs >= 0 && Number.isFinite(maxLagMs))) throw new ConfigError('ECG_ERR_BAD_OPTION', `${operator}: maxLagMs=${maxLagMs} must be a finite number >= 0`);
}

/**
 * The last `capacity` windows and, per sample, their values kept sorted, so that a new window updates the median in
 * O(capacity) per sample (one removal, one insertion) instead of a sort. Also used by the rules' gates (gateByUsualBeat.ts).
 */
export class MedianTemplate {
  private readonly ring: Float32Array;
  private readonly sorted: Float32Array;
  private readonly template: Float32Array;
  private next = 0;
  count = 0;

  constructor(private readonly capacity: number, readonly length: number) {
    this.ring = new Float32Array(capacity * length);
    this.sorted = new Float32Array(length * capacity);
    this.template = new Float32Array(length);
  }

  push(samples: Float32Array): void {
    const { capacity: cap, length: L, sorted } = this;
    const full = this.count === cap;
    for (let j = 0; j < L; j++) {
      const base = j * cap;
      let n = this.count;
      if (full) {
        // Drop the oldest window's value from this sample's sorted column.
        const old = this.ring[this.next * L + j];
        let i = 0;
        while (i < n - 1 && sorted[base + i] !== old) i++;
        for (; i < n - 1; i++) sorted[base + i] = sorted[base + i + 1];
        n--;
      }
      const v = samples[j];
      let i = n;
      while (i > 0 && sorted[base + i - 1] > v) { sorted[base + i] = sorted[base + i - 1]; i--; }
      sorted[base + i] = v;
    }
    this.ring.set(samples, this.next * L);
    this.next = (this.next + 1) % cap;
    this.count = Math.min(cap, this.count + 1);
  }

  median(): Float32Array {
    const n = this.count, cap = this.capacity;
    for (let j = 0; j < this.length; j++) {
      const base = j * cap;
      this.template[j] = n % 2 === 1 ? this.sorted[base + (n - 1) / 2] : (this.sorted[base + n / 2 - 1] + this.sorted[base + n / 2]) / 2;
    }
    return this.template;
  }
}

/** Sample indices [from, to) of a region given in ms from the R-peak, clipped to the window. */
export function regionIndices(beat: Pick<BeatWindow, 'samplesBefore' | 'fsHz' | 'samples'>, [fromMs, toMs]: readonly [number, number]): [number, number] {
  const from = Math.max(0, beat.samplesBefore + Math.round((fromMs * beat.fsHz) / 1000));
  const to = Math.min(beat.samples.length, beat.samplesBefore + Math.round((toMs * beat.fsHz) / 1000) + 1);
  return [from, to];
}

function compareWindows(beat: BeatWindow, template: Float32Array): TemplateFeatures {
  const [q0, q1] = regionIndices(beat, TEMPLATE_REGIONS_MS.qrs);
  const beatRange = peakToPeak(beat.samples, q0, q1);
  const templateRange = peakToPeak(template, q0, q1);
  let residual = 0;
  for (let j = q0; j < q1; j++) residual += (beat.samples[j] - template[j]) ** 2;
  return {
    qrsCorrelation: correlation(beat.samples, template, q0, q1),
    pCorrelation: correlation(beat.samples, template, ...regionIndices(beat, TEMPLATE_REGIONS_MS.p)),
    tCorrelation: correlation(beat.samples, template, ...regionIndices(beat, TEMPLATE_REGIONS_MS.t)),
    qrsAmplitudeRatio: templateRange > 0 ? beatRange / templateRange : NaN,
    qrsResidual: templateRange > 0 ? Math.sqrt(residual / (q1 - q0)) / templateRange : NaN,
  };
}

function peakToPeak(x: Float32Array, from: number, to: number): number {
  let lo = Infinity, hi = -Infinity;
  for (let j = from; j < to; j++) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  return hi - lo;
}

/** Pearson correlation of x and y over [from, to); NaN when either is flat or a value is not finite. */
export function correlation(x: Float32Array, y: Float32Array, from: number, to: number): number {
  return correlationAt(x, from, y, from, to - from);
}

/**
 * The highest Pearson correlation of y's [yFrom, yFrom + to - from) with x's [from, to) shifted by up to `maxLag`
 * samples either way (shifts that would leave x are skipped); NaN when no shift gives a finite one. With `maxLag` 0,
 * {@link correlation}.
 */
export function bestLagCorrelation(x: Float32Array, from: number, to: number, y: Float32Array, yFrom: number, maxLag: number): number {
  let best = -Infinity;
  for (let lag = Math.max(-maxLag, -from); lag <= Math.min(maxLag, x.length - to); lag++) {
    const r = correlationAt(x, from + lag, y, yFrom, to - from);
    if (r > best) best = r;
  }
  return best === -Infinity ? NaN : best;
}

function correlationAt(x: Float32Array, xFrom: number, y: Float32Array, yFrom: number, n: number): number {
  if (n < 2) return NaN;
  let sx = 0, sy = 0;
  for (let j = 0; j < n; j++) { sx += x[xFrom + j]; sy += y[yFrom + j]; }
  const mx = sx / n, my = sy / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let j = 0; j < n; j++) {
    const dx = x[xFrom + j] - mx, dy = y[yFrom + j] - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  const r = sxy / Math.sqrt(sxx * syy);
  return Number.isFinite(r) ? r : NaN;
}
