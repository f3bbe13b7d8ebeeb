import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { BeatClass, BeatClassification } from '../types.js';
import { bestLagCorrelation, checkCorrelationThreshold, checkMaxLagMs, checkTemplateSize, isCleanWindow, QRS_MAX_LAG_MS, regionIndices, StreamTemplates } from './compareToTemplate.js';
import { ruleOutClasses } from './ruleOutClass.js';

/** Options of a gate against the stream's usual beat. */
export interface UsualBeatGateOptions {
  /** A gate that rules its class out where the beat is like the usual beat: the correlation at or above which it does. */
  minCorrelation?: number;
  /** A gate that rules its class out where the beat is unlike the usual beat: the correlation below which it does. */
  maxCorrelation?: number;
  /** The threshold for beats in detected atrial fibrillation (`rhythm.atrialFibrillation`); the same by default. */
  correlationInAf?: number;
  /** Past windows the usual beat is the sample-wise median of. Default 32. */
  templateBeats?: number;
  /** Windows of the usual beat's classes needed before the gate acts. Default 8. */
  minBeats?: number;
  /**
   * A gate that compares the QRS: how far (ms, either way) the beat's QRS may shift against the usual beat's, the
   * best-matching shift counting. Default QRS_MAX_LAG_MS (compareToTemplate.ts).
   */
  maxLagMs?: number;
}

/** What a rule that compares a beat with the stream's usual beat looks at (gateVebByTemplate, gateSvebByPWave, gateSvebByQrs). */
export interface UsualBeatGate {
  /** Operator name, for errors. */
  operator: string;
  /** The classes the beat loses. */
  gatedClasses: readonly BeatClass[];
  /** Whether the beat loses it where it is like the usual beat (correlation at or above the threshold) or unlike it (below). */
  when: 'alike' | 'unlike';
  /** Whether a clean window of this (current) class goes into the usual beat. */
  shapesUsualBeat: (beatClass: BeatClass) => boolean;
  /** Region compared, in ms from the R-peak. */
  regionMs: readonly [number, number];
  /** Where the correlation is kept on the beat, if anywhere. */
  field?: 'usualBeatQrsCorrelation' | 'usualBeatPCorrelation';
  defaultThreshold: number;
  /** The threshold's default in detected atrial fibrillation; the same as out of it when absent. */
  defaultThresholdInAf?: number;
  /** Whether the region may shift (`maxLagMs`): the QRS gates; the P-wave gate compares at the mark, PR interval and all. */
  shifts: boolean;
}

/**
 * Rules `gatedClasses` out for a beat whose `regionMs` correlates at `minCorrelation` or more (`when: 'alike'`), or below
 * `maxCorrelation` (`'unlike'`), with the same region of the stream's usual beat (a QRS gate: at the best shift of the
 * beat's region within `maxLagMs`), whatever its class (ruleOutClass.ts:
 * a beat of one of those classes takes the most probable class no rule ruled out). In detected atrial fibrillation the threshold
 * is `correlationInAf`. The usual beat is the sample-wise median of the last `templateBeats` clean windows of the
 * classes that shape it, compared with the beats before it only (causal); NaN until it has `minBeats`. Beats without a
 * window pass unchanged.
 */
export function gateByUsualBeat(gate: UsualBeatGate, options: UsualBeatGateOptions): OperatorFunction<BeatClassification, BeatClassification> {
  const { operator, gatedClasses, when, shapesUsualBeat, regionMs, field, defaultThreshold, defaultThresholdInAf, shifts } = gate;
  const { templateBeats = 32, minBeats = 8, maxLagMs = shifts ? QRS_MAX_LAG_MS : 0 } = options;
  if (!shifts && maxLagMs !== 0) throw new ConfigError('ECG_ERR_BAD_OPTION', `${operator}: maxLagMs=${maxLagMs} must be 0: this gate compares at the mark`);
  checkMaxLagMs(operator, maxLagMs);
  const name = when === 'alike' ? 'minCorrelation' : 'maxCorrelation';
  const threshold = options[name] ?? defaultThreshold;
  const thresholdInAf = options.correlationInAf ?? defaultThresholdInAf ?? threshold;
  checkCorrelationThreshold(operator, name, threshold);
  checkCorrelationThreshold(operator, 'correlationInAf', thresholdInAf);
  const rulesOut = (r: number, inAf: boolean) => {
    const t = inAf ? thresholdInAf : threshold;
    return when === 'alike' ? r >= t : r < t;
  };
  checkTemplateSize(operator, templateBeats, minBeats);
  return (beats$) => {
    const templates = new StreamTemplates(templateBeats);
    return beats$.pipe(
      map((beat) => {
        const window = beat.window;
        if (!window) return beat;
        const usual = templates.of(beat.streamId, window.samples.length);
        let r = NaN;
        if (usual.count >= minBeats) {
          const [from, to] = regionIndices(window, regionMs);
          r = bestLagCorrelation(window.samples, from, to, usual.median(), from, Math.round((maxLagMs * window.fsHz) / 1000));
        }
        if (shapesUsualBeat(beat.beatClass) && isCleanWindow(window)) usual.push(window.samples);
        const scored = field ? { ...beat, [field]: r } : beat;
        return rulesOut(r, beat.rhythm?.atrialFibrillation === true) ? ruleOutClasses(scored, gatedClasses) : scored;
      }),
    );
  };
}
