import { BEAT_CLASSES, type BeatClass, type BeatClassification } from '../types.js';

/**
 * `beat` with `ruledOut` added to the classes the rules after the model have ruled out for it (`beat.ruledOut`). If its
 * class is among them, it takes the most probable class no rule ruled out, the model's own class kept in
 * `modelClass`. A rule rules its class out whenever its evidence holds, whatever the beat's class at that point, so
 * the classes the rules leave do not depend on their order: a beat one rule moves to its second choice is not handed
 * a class another rule, before or after it, excludes.
 */
export function ruleOutClass(beat: BeatClassification, ruledOut: BeatClass): BeatClassification {
  const excluded = beat.ruledOut?.includes(ruledOut) ? beat.ruledOut : [...(beat.ruledOut ?? []), ruledOut];
  if (!excluded.includes(beat.beatClass)) return { ...beat, ruledOut: excluded };
  let best = -1;
  beat.probabilities.forEach((p, c) => {
    if (!excluded.includes(BEAT_CLASSES[c]) && (best < 0 || p > beat.probabilities[best])) best = c;
  });
  if (best < 0) return { ...beat, ruledOut: excluded }; // every class ruled out: nothing better to say than the model
  return { ...beat, ruledOut: excluded, beatClass: BEAT_CLASSES[best] as BeatClass, modelClass: beat.modelClass ?? beat.beatClass };
}

/** {@link ruleOutClass} for each of `classes` in turn. */
export function ruleOutClasses(beat: BeatClassification, classes: readonly BeatClass[]): BeatClassification {
  return classes.reduce((out, ruledOut) => ruleOutClass(out, ruledOut), beat);
}
