import { describe, expect, it } from 'vitest';
import { overruleClass } from '../../src/pipeline/overruleClass.js';
import type { BeatClassification } from '../../src/types.js';

const beat = (extra: Partial<BeatClassification>): BeatClassification => ({
  streamId: 's', sampleIndex: 0, fsHz: 360, beatClass: 'S', probabilities: [0.2, 0.45, 0.3, 0.05, 0], model: 'm', ...extra,
});

describe('overruleClass', () => {
  it('takes the most probable other class and keeps the model class', () => {
    const out = overruleClass(beat({}));
    expect(out.beatClass).toBe('V');
    expect(out.modelClass).toBe('S');
    expect(out.probabilities).toEqual([0.2, 0.45, 0.3, 0.05, 0]);
  });

  it('never brings back a class an earlier rule ruled out', () => {
    // The model said S, an earlier rule made it V; overruling V must not give S back.
    const out = overruleClass(beat({ beatClass: 'V', modelClass: 'S' }));
    expect(out.beatClass).toBe('N');
    expect(out.modelClass).toBe('S');
  });
});
