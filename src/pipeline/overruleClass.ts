import { BEAT_CLASSES, type BeatClass, type BeatClassification } from '../types.js';

/**
 * `beat` with `beatClass` ruled out by a rule after the model: it takes the most probable class among those no rule
 * has ruled out (this one, and the model's own class if an earlier rule already changed it), the model's own class
 * kept in `modelClass`. Rules compose: a later rule never brings back a class an earlier one ruled out.
 */
export function overruleClass(beat: BeatClassification): BeatClassification {
  const ruledOut = new Set<BeatClass>([beat.beatClass]);
  if (beat.modelClass !== undefined) ruledOut.add(beat.modelClass);
  let best = -1;
  beat.probabilities.forEach((p, c) => {
    if (!ruledOut.has(BEAT_CLASSES[c]) && (best < 0 || p > beat.probabilities[best])) best = c;
  });
  return { ...beat, beatClass: BEAT_CLASSES[best] as BeatClass, modelClass: beat.modelClass ?? beat.beatClass };
}
