import type { OperatorFunction } from 'rxjs';
import type { BeatClassification } from '../types.js';
import { TEMPLATE_REGIONS_MS } from './compareToTemplate.js';
import { gateByUsualBeat, type UsualBeatGateOptions } from './gateByUsualBeat.js';

/**
 * `minCorrelation`: the P-wave correlation with the usual beat (made of N calls)
 * at or above which an S call is overruled, default 0.95; `templateBeats`, `minBeats` as gateByUsualBeat.ts says.
 */
export type GateSvebByPWaveOptions = Omit<UsualBeatGateOptions, 'maxLagMs'>;

/**
 * Rules S out for a beat whose P wave matches the stream's usual N beat; an S call takes the most probable class no
 * rule ruled out. An atrial premature
 * beat starts from an ectopic focus, early, so its P wave differs from the sinus P wave (or hides in the T wave before
 * it); a beat with the usual sinus P wave and a short RR interval is a sinus beat in a rhythm whose rate changes (sinus
 * arrhythmia, the end of a 2:1 block), which a network trained on other patients calls S. The P wave is compared over
 * 250 to 70 ms before the R-peak (compareToTemplate.ts's P region) with the sample-wise median of the last
 * `templateBeats` clean windows called N, so that the S beats themselves cannot shape it. Causal, no added latency;
 * beats without a window pass unchanged. The model's own class stays in `modelClass`, the correlation in
 * `usualBeatPCorrelation`, the classes ruled out in `ruledOut` (ruleOutClass.ts).
 *
 * The threshold was chosen on MIT-BIH DS1 patients the models had not trained on, before DS2 was scored (see
 * models/EXPERIMENTS.md): after the AF, template and timing gates, S +P rose from 33.7 to 35.2 % and S Se fell from 49.5 to
 * 48.8 %.
 */
export function gateSvebByPWave(options: GateSvebByPWaveOptions = {}): OperatorFunction<BeatClassification, BeatClassification> {
  return gateByUsualBeat({
    operator: 'gateSvebByPWave', gatedClasses: ['S'], when: 'alike', shapesUsualBeat: (c) => c === 'N', regionMs: TEMPLATE_REGIONS_MS.p,
    field: 'usualBeatPCorrelation', defaultThreshold: 0.95, shifts: false,
  }, options);
}
