import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { gateSvebInAtrialFibrillation } from '../../src/pipeline/gateSvebInAtrialFibrillation.js';
import type { BeatClass, BeatClassification } from '../../src/types.js';

const rhythm = (atrialFibrillation: boolean) => ({ atrialFibrillation, normalisedRmssd: 0.2, shannonEntropy: 0.8, turningPointZ: 0 });

function classified(beatClass: BeatClass, probabilities: number[], af: boolean | undefined): BeatClassification {
  return { streamId: 's', sampleIndex: 0, fsHz: 360, beatClass, probabilities, model: 'm', ...(af === undefined ? {} : { rhythm: rhythm(af) }) };
}

const gate = (beat: BeatClassification) => lastValueFrom(from([beat]).pipe(gateSvebInAtrialFibrillation(), toArray())).then(([out]) => out);

describe('gateSvebInAtrialFibrillation', () => {
  it('turns an S call in AF into the most probable other class and keeps the model class', async () => {
    const toN = await gate(classified('S', [0.3, 0.5, 0.15, 0.05, 0], true));
    expect(toN.beatClass).toBe('N');
    expect(toN.modelClass).toBe('S');
    expect(toN.probabilities).toEqual([0.3, 0.5, 0.15, 0.05, 0]);
    const toV = await gate(classified('S', [0.1, 0.5, 0.35, 0.05, 0], true));
    expect(toV.beatClass).toBe('V');
  });

  it('leaves S outside AF and beats with no rhythm alone', async () => {
    for (const beat of [classified('S', [0.3, 0.5, 0.2, 0, 0], false), classified('S', [0.3, 0.5, 0.2, 0, 0], undefined)]) {
      const out = await gate(beat);
      expect(out).toBe(beat);
      expect(out.modelClass).toBeUndefined();
    }
  });

  it('rules S out for other classes in AF too, without changing them, so that a later rule cannot give S', async () => {
    const v = await gate(classified('V', [0.3, 0.1, 0.6, 0, 0], true));
    expect(v.beatClass).toBe('V');
    expect(v.modelClass).toBeUndefined();
    expect(v.ruledOut).toEqual(['S']);
  });
});
