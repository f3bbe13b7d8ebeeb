import { map, type OperatorFunction } from 'rxjs';
import type { BeatClassification } from '../types.js';
import { ruleOutClass } from './ruleOutClass.js';

/**
 * Rules S out in atrial fibrillation (as detectAtrialFibrillation judged it): a beat the model calls S there takes the
 * most probable class no rule ruled out (ruleOutClass.ts). The atria fibrillate, so there is no premature atrial beat to find, but an irregular
 * rhythm is full of short RR intervals that look like one: inter-patient, most false S calls fall in AF. The model's
 * own class stays in `modelClass`, its probabilities are untouched.
 *
 * Measured on MIT-BIH DS1 patients the models had not trained on (5 patient folds, see models/EXPERIMENTS.md): SVEB +P
 * 23.9 -> 38.3 %, SVEB Se 46.7 -> 46.0 %.
 */
export function gateSvebInAtrialFibrillation(): OperatorFunction<BeatClassification, BeatClassification> {
  return map((beat) => (beat.rhythm?.atrialFibrillation ? ruleOutClass(beat, 'S') : beat));
}
