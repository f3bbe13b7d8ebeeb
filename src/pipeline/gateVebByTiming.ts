import { map, type OperatorFunction } from 'rxjs';
import { ConfigError } from '../errors.js';
import type { BeatClassification } from '../types.js';
import { ruleOutClass } from './ruleOutClass.js';

export interface GateVebByTimingOptions {
  /**
   * How far the previous and the next RR interval may each be from the local mean RR, as a fraction of it, for a beat
   * to count as on time. Default 0.05.
   */
  maxRrDeviation?: number;
  /**
   * Only a beat whose QRS correlates with the stream's usual beat (`usualBeatQrsCorrelation`, set by the template gate)
   * at this or more loses V; a beat without that correlation (template gate off, or too few beats yet) loses it
   * whatever its shape. Default 0.7; -1 rules V out for every on-time beat, as the gate did until the sixteenth pass.
   */
  minQrsCorrelation?: number;
}

/**
 * Rules V out for a beat that arrives on time and is followed by no pause, unless the beat before it is V or its QRS
 * is unlike the stream's usual beat (below `minQrsCorrelation`): a V call there takes the most probable class no rule
 * ruled out. A ventricular premature beat comes early, is followed by a compensatory pause, or both; a beat whose
 * previous and next RR intervals are both within `maxRrDeviation` of the local mean RR is neither. Inter-patient, what
 * a network still calls V after the template gate is mostly such a beat: a patient's usual beat, on time, whose shape
 * it has not seen. The second and later beats of a run of V beats (ventricular tachycardia, where every interval is
 * alike) are never overruled, because the beat before them is V; nor are escape beats, which come late.
 *
 * The RR intervals are the beat window's (`rr`, set by classifyBeats): the next one is known when the beat is
 * classified, so this costs no latency. Beats without them pass unchanged. The model's own class stays in
 * `modelClass`, the classes ruled out in `ruledOut` (ruleOutClass.ts).
 *
 * A late-coupled PVC comes on time too, so timing alone turned such PVCs away (84 of record 213's on DS2); the QRS
 * floor keeps V for an on-time beat whose QRS is not the patient's usual one.
 *
 * The tolerance and the floor were chosen on MIT-BIH DS1 patients the models had not trained on, before DS2 was scored
 * with them (see models/EXPERIMENTS.md): the tolerance, after the AF and template gates, took V +P from 82.3 to 83.8 %
 * and V Se from 89.2 to 88.5 %; the floor (0.7, chosen from 0.7, 0.8 and 0.9 with all the other rules on) V Se from
 * 88.9 to 89.4 % and V +P from 87.0 to 86.8 %.
 */
export function gateVebByTiming(options: GateVebByTimingOptions = {}): OperatorFunction<BeatClassification, BeatClassification> {
  const { maxRrDeviation = 0.05, minQrsCorrelation = 0.7 } = options;
  if (!(maxRrDeviation >= 0 && maxRrDeviation < 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `gateVebByTiming: maxRrDeviation=${maxRrDeviation} must be in [0, 1)`);
  if (!(minQrsCorrelation >= -1 && minQrsCorrelation <= 1)) throw new ConfigError('ECG_ERR_BAD_OPTION', `gateVebByTiming: minQrsCorrelation=${minQrsCorrelation} must be in [-1, 1]`);
  const shapedLikeUsual = (r: number | undefined) => r === undefined || Number.isNaN(r) || r >= minQrsCorrelation;
  const onTime = (rrMs: number, localMeanRrMs: number) => Math.abs(rrMs / localMeanRrMs - 1) <= maxRrDeviation;
  return (beats$) => {
    const previousClass = new Map<string, string>();
    return beats$.pipe(
      map((beat) => {
        const rr = beat.rr;
        const losesV = previousClass.get(beat.streamId) !== 'V' && rr !== undefined && rr.localMeanRrMs > 0
          && onTime(rr.previousRrMs, rr.localMeanRrMs) && onTime(rr.nextRrMs, rr.localMeanRrMs) && shapedLikeUsual(beat.usualBeatQrsCorrelation);
        const out = losesV ? ruleOutClass(beat, 'V') : beat;
        previousClass.set(beat.streamId, out.beatClass);
        return out;
      }),
    );
  };
}
