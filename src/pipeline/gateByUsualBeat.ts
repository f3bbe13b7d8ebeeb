import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { BeatClass, BeatClassification } from '../types.js';
import { checkTemplateSize, correlation, MedianTemplate, regionIndices } from './compareToTemplate.js';
import { ruleOutClass } from './ruleOutClass.js';

/** Options of a gate against the stream's usual beat. */
export interface UsualBeatGateOptions {
  /** Correlation with the usual beat at or above which a call is overruled (each gate has its default). */
  minCorrelation?: number;
  /** Past windows the usual beat is the sample-wise median of. Default 32. */
  templateBeats?: number;
  /** Windows of the usual beat's classes needed before the gate acts. Default 8. */
  minBeats?: number;
}

/** What a rule that compares a call with the stream's usual beat looks at (gateVebByTemplate, gateSvebByPWave). */
export interface UsualBeatGate {
  /** Operator name, for errors. */
  operator: string;
  /** The class a matching beat loses. */
  gatedClass: BeatClass;
  /** Whether a clean window of this (current) class goes into the usual beat. */
  shapesUsualBeat: (beatClass: BeatClass) => boolean;
  /** Region compared, in ms from the R-peak. */
  regionMs: readonly [number, number];
  /** Where the correlation is kept on the beat. */
  field: 'usualBeatQrsCorrelation' | 'usualBeatPCorrelation';
  defaultMinCorrelation: number;
}

/**
 * Rules `gatedClass` out for a beat whose `regionMs` correlates at `minCorrelation` or more with the same region of
 * the stream's usual beat, whatever its class (ruleOutClass.ts: a beat of that class takes the most probable class no
 * rule ruled out). The usual beat is the sample-wise median of the last `templateBeats` clean windows of the classes
 * that shape it, compared with the beats before it only (causal); NaN until it has `minBeats`. Beats without a window
 * pass unchanged.
 */
export function gateByUsualBeat(gate: UsualBeatGate, options: UsualBeatGateOptions): OperatorFunction<BeatClassification, BeatClassification> {
  const { operator, gatedClass, shapesUsualBeat, regionMs, field, defaultMinCorrelation } = gate;
  const { minCorrelation = defaultMinCorrelation, templateBeats = 32, minBeats = 8 } = options;
  if (!(minCorrelation > -1 && minCorrelation <= 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `${operator}: minCorrelation=${minCorrelation} must be in (-1, 1]`);
  checkTemplateSize(operator, templateBeats, minBeats);
  return (beats$) => {
    const streams = new Map<string, MedianTemplate>();
    return beats$.pipe(
      map((beat) => {
        const window = beat.window;
        if (!window) return beat;
        let usual = streams.get(beat.streamId);
        if (!usual || usual.length !== window.samples.length) streams.set(beat.streamId, (usual = new MedianTemplate(templateBeats, window.samples.length)));
        let r = NaN;
        if (usual.count >= minBeats) {
          const [from, to] = regionIndices(window, regionMs);
          r = correlation(window.samples, usual.median(), from, to);
        }
        if (shapesUsualBeat(beat.beatClass) && window.paddedSamples === 0 && window.samples.every(Number.isFinite)) usual.push(window.samples);
        const scored = { ...beat, [field]: r };
        return r >= minCorrelation ? ruleOutClass(scored, gatedClass) : scored;
      }),
    );
  };
}
