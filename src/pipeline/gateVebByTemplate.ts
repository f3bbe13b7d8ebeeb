import type { OperatorFunction } from 'rxjs';
import type { BeatClassification } from '../types.js';
import { TEMPLATE_REGIONS_MS } from './compareToTemplate.js';
import { gateByUsualBeat, type UsualBeatGateOptions } from './gateByUsualBeat.js';

/**
 * `minCorrelation`: the QRS correlation with the usual beat (made of non-V calls) at or above which V is ruled out,
 * default 0.98; `correlationInAf`: the same in detected atrial fibrillation, default 0.90; `templateBeats`, `minBeats`,
 * `maxLagMs` as gateByUsualBeat.ts says.
 */
export interface GateVebByTemplateOptions extends UsualBeatGateOptions {
  /**
   * Whether F (fusion) is ruled out with V: a fusion beat's QRS is partly the ectopic beat's, so a QRS that matches the
   * usual beat speaks against it too. Default false (models/EXPERIMENTS.md, "The template gate and fusion": it passed
   * its DS1 gate, then lowered DS2's SVEB +P, which its registration said it must not).
   */
  ruleOutFusion?: boolean;
}

/**
 * Rules V out (and F with `ruleOutFusion`) for a beat whose QRS complex matches the stream's usual beat; a V call takes
 * the most probable class no rule ruled out. A ventricular beat is conducted through the ventricles by another path, so its QRS differs from the
 * patient's own supraventricular beats; much of what a network trained on other patients mistakes for V is a
 * patient's usual beat that looks unusual to it (bundle branch block, an odd axis). The usual beat is the sample-wise median of the last `templateBeats` clean
 * windows the model did *not* call V, so that runs of V beats cannot shape it (with all beats, true V beats of
 * V-rich records matched it). It is compared with the beats before it only (causal, no added latency); beats without a
 * window pass unchanged. The model's own class stays in `modelClass`, the correlation in `usualBeatQrsCorrelation`;
 * the classes ruled out in `ruledOut` (ruleOutClass.ts).
 *
 * In detected atrial fibrillation (`rhythm.atrialFibrillation`) the threshold is lower: the QRS of conducted beats
 * varies with the irregular filling, and fibrillatory waves ride on it, so a conducted beat matches the usual beat
 * less closely than in sinus rhythm.
 *
 * A V call the gate overrules often takes F, the model's second choice: on DS2 the monitor calls 2,365 N beats F.
 * `ruleOutFusion` rules F out too (a fusion beat's QRS is partly the ectopic one's); it is off by default, see above.
 *
 * Both thresholds were chosen on MIT-BIH DS1 patients the models had not trained on, before DS2 was scored (see
 * models/EXPERIMENTS.md): the gate took V +P from 63.9 to 82.3 % and V Se from 90.6 to 89.3 %; the AF threshold, with all
 * the other rules on, V +P from 83.9 to 86.4 % and V Se from 90.7 to 90.3 %.
 */
export function gateVebByTemplate(options: GateVebByTemplateOptions = {}): OperatorFunction<BeatClassification, BeatClassification> {
  return gateByUsualBeat({
    operator: 'gateVebByTemplate', gatedClasses: options.ruleOutFusion ? ['V', 'F'] : ['V'], when: 'alike', shapesUsualBeat: (c) => c !== 'V', regionMs: TEMPLATE_REGIONS_MS.qrs,
    field: 'usualBeatQrsCorrelation', defaultThreshold: 0.98, defaultThresholdInAf: 0.9, shifts: true,
  }, options);
}
