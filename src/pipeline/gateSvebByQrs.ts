import type { OperatorFunction } from 'rxjs';
import type { BeatClassification } from '../types.js';
import { TEMPLATE_REGIONS_MS } from './compareToTemplate.js';
import { gateByUsualBeat, type UsualBeatGateOptions } from './gateByUsualBeat.js';

/**
 * `maxCorrelation`: the QRS correlation with the usual beat (made of non-V calls) below which S is ruled out, default
 * 0.9; `templateBeats`, `minBeats`, `maxLagMs` as gateByUsualBeat.ts says.
 */
export type GateSvebByQrsOptions = UsualBeatGateOptions;

/**
 * Rules S out for a beat whose QRS complex is unlike the stream's usual beat; an S call takes the most probable class
 * no rule ruled out. A supraventricular beat reaches the ventricles through the normal conduction system, so its QRS
 * looks like the patient's usual one; a QRS far from it is ventricular (or aberrantly conducted, the cost of this
 * rule). The usual beat is the sample-wise median of the last `templateBeats` clean windows not called V (as the
 * template gate's), compared over ±80 ms around the R-peak with the beats before it only: causal, no added latency.
 * Beats without a window pass unchanged; the classes ruled out are in `ruledOut` (ruleOutClass.ts).
 *
 * The threshold was chosen on MIT-BIH DS1 patients the models had not trained on, before DS2 was scored (see
 * models/EXPERIMENTS.md).
 */
export function gateSvebByQrs(options: GateSvebByQrsOptions = {}): OperatorFunction<BeatClassification, BeatClassification> {
  return gateByUsualBeat({
    operator: 'gateSvebByQrs', gatedClasses: ['S'], when: 'unlike', shapesUsualBeat: (c) => c !== 'V', regionMs: TEMPLATE_REGIONS_MS.qrs,
    defaultThreshold: 0.9, shifts: true,
  }, options);
}
