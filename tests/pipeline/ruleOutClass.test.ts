import { describe, expect, it } from 'vitest';
import { ruleOutClass, ruleOutClasses } from '../../src/pipeline/ruleOutClass.js';
import type { BeatClassification } from '../../src/types.js';

const beat = (extra: Partial<BeatClassification>): BeatClassification => ({
  streamId: 's', sampleIndex: 0, fsHz: 360, beatClass: 'S', probabilities: [0.2, 0.45, 0.3, 0.05, 0], model: 'm', ...extra,
});

describe('ruleOutClass', () => {
  it('gives a beat of the ruled-out class its most probable other class, keeping the model class and probabilities', () => {
    const out = ruleOutClass(beat({}), 'S');
    expect(out.beatClass).toBe('V');
    expect(out.modelClass).toBe('S');
    expect(out.ruledOut).toEqual(['S']);
    expect(out.probabilities).toEqual([0.2, 0.45, 0.3, 0.05, 0]);
  });

  it('only records the exclusion for a beat of another class', () => {
    const out = ruleOutClass(beat({}), 'V');
    expect(out.beatClass).toBe('S');
    expect(out.modelClass).toBeUndefined();
    expect(out.ruledOut).toEqual(['V']);
  });

  it('never gives a class another rule ruled out, in either order', () => {
    // S first, then V: the S call goes to V, then to N. V first (recorded on an S call), then S: straight to N.
    const sThenV = ruleOutClass(ruleOutClass(beat({}), 'S'), 'V');
    const vThenS = ruleOutClass(ruleOutClass(beat({}), 'V'), 'S');
    for (const out of [sThenV, vThenS]) {
      expect(out.beatClass).toBe('N');
      expect(out.modelClass).toBe('S');
      expect([...out.ruledOut!].sort()).toEqual(['S', 'V']);
    }
    expect(ruleOutClass(sThenV, 'V')).toEqual(sThenV); // ruling a class out twice changes nothing
  });

  it('keeps the class when every class is ruled out', () => {
    const out = ruleOutClass(beat({ ruledOut: ['N', 'V', 'F', 'Q'] }), 'S');
    expect(out.beatClass).toBe('S');
    expect(out.ruledOut).toHaveLength(5);
  });

  it('ruleOutClasses rules each class out in turn: the beat takes the most probable class left', () => {
    expect(ruleOutClasses(beat({}), ['S', 'V'])).toEqual(ruleOutClass(ruleOutClass(beat({}), 'S'), 'V'));
    const onlyV = ruleOutClasses(beat({}), ['N', 'S', 'F', 'Q']);
    expect(onlyV).toMatchObject({ beatClass: 'V', modelClass: 'S', ruledOut: ['N', 'S', 'F', 'Q'] });
    expect(ruleOutClasses(beat({}), [])).toEqual(beat({}));
  });
});
