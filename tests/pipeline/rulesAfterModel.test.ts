import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/dataset/seededRandom.js';
import { monitorRules, RULE_NAMES, ruleStages, rulesAfterModel, type MonitorRules } from '../../src/pipeline/rulesAfterModel.js';
import type { BeatClassification } from '../../src/types.js';
import { beatShape } from './helpers.js';

/**
 * 200 beats at irregularly irregular RR intervals (AF), every fourth called S and every seventh V, all with the same
 * usual QRS: with the rules on, the S calls in AF and the V calls like the usual beat are overruled.
 */
function afStream(): BeatClassification[] {
  const random = seededRandom(2);
  let sampleIndex = 0;
  return Array.from({ length: 200 }, (_, i) => ({
    streamId: 's', sampleIndex: (sampleIndex += Math.round(360 * (0.45 + 0.6 * random()))), fsHz: 360,
    beatClass: i % 7 === 0 ? 'V' : i % 4 === 0 ? 'S' : 'N', probabilities: [0.5, 0.3, 0.2, 0, 0], model: 'm',
    window: { samples: beatShape(), samplesBefore: 180, paddedSamples: 0, fsHz: 360 },
  }));
}

const run = (rules: MonitorRules) => lastValueFrom(from(afStream()).pipe(rulesAfterModel(rules), toArray()));

describe('rulesAfterModel', () => {
  it('judges the rhythm of every beat, also with the rules off, and then changes nothing', async () => {
    const out = await run(monitorRules({ afGate: false, templateGate: false, timingGate: false, pWaveGate: false, qrsGate: false, atrialRunGate: false, morphologyVote: false }));
    expect(out.every((b) => b.rhythm !== undefined)).toBe(true);
    expect(out.some((b) => b.rhythm!.atrialFibrillation)).toBe(true);
    expect(out.map((b) => b.beatClass)).toEqual(afStream().map((b) => b.beatClass));
  });

  it('runs the S gates (AF, P wave, QRS), then the V gates (template, timing), then the atrial run gate, then the morphology vote, as ruleStages lists them', async () => {
    expect(ruleStages(monitorRules()).map((s) => s.rule)).toEqual(['afGate', 'pWaveGate', 'qrsGate', 'templateGate', 'timingGate', 'atrialRunGate', 'morphologyVote']);
    expect(RULE_NAMES).toEqual(['afGate', 'pWaveGate', 'qrsGate', 'templateGate', 'timingGate', 'atrialRunGate', 'morphologyVote']);
    expect(ruleStages(monitorRules({ afGate: false, timingGate: false, pWaveGate: false, qrsGate: false, atrialRunGate: false, morphologyVote: false })).map((s) => s.rule)).toEqual(['templateGate']);
    const afOnly = await run(monitorRules({ templateGate: false, timingGate: false, pWaveGate: false, qrsGate: false, atrialRunGate: false, morphologyVote: false }));
    expect(afOnly.some((b) => b.modelClass === 'S')).toBe(true);
    expect(afOnly.every((b) => b.beatClass !== 'S' || !b.rhythm!.atrialFibrillation)).toBe(true);
    const both = await run(monitorRules({ timingGate: false, pWaveGate: false, qrsGate: false, atrialRunGate: false, morphologyVote: false }));
    expect(both.some((b) => b.modelClass === 'V' && b.beatClass !== 'V')).toBe(true);
    // An S call the AF gate made V (its second choice) is not given back S by the template gate.
    expect(both.filter((b) => b.modelClass === 'S' && b.rhythm!.atrialFibrillation).every((b) => b.beatClass === 'N')).toBe(true);
  });

  it('ruleStages, run one after another as eval beats replays them, give what rulesAfterModel gives, for every set of rules', async () => {
    for (let mask = 0; mask < 1 << RULE_NAMES.length; mask++) {
      const rules = Object.fromEntries(RULE_NAMES.map((rule, k) => [rule, (mask & (1 << k)) !== 0])) as MonitorRules;
      let beats = afStream();
      for (const { stage } of ruleStages(rules)) beats = await lastValueFrom(from(beats).pipe(stage, toArray()));
      const live = await run(rules);
      expect(beats.map((b) => b.beatClass), JSON.stringify(rules)).toEqual(live.map((b) => b.beatClass));
      // With any rule on, the rhythm was judged first, also with the AF gate off (the template gate reads it).
      if (mask !== 0) expect(beats.every((b) => b.rhythm !== undefined)).toBe(true);
    }
  });
});
