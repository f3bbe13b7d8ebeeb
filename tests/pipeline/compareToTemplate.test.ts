import fc from 'fast-check';
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { BEAT_FEATURE_NAMES, beatFeatureVector, featureColumns, selectColumns, selectRows } from '../../src/pipeline/beatFeatures.js';
import { bestLagCorrelation, compareToTemplate, correlation } from '../../src/pipeline/compareToTemplate.js';
import { seededRandom } from '../../src/dataset/seededRandom.js';
import type { BeatWindow } from '../../src/types.js';
import { beatShape, shiftedBy } from './helpers.js';

const FS = 360;

function beat(i: number, samples: Float32Array, extra: Partial<BeatWindow> = {}): BeatWindow {
  return {
    streamId: 's', sampleIndex: 1000 + i * 300, fsHz: FS, samples, samplesBefore: 180,
    rr: { previousRrMs: 833, nextRrMs: 833, localMeanRrMs: 833, recordMeanRrMs: 833, localVariationRrMs: 0 }, paddedSamples: 0, ...extra,
  };
}

const run = (beats: BeatWindow[], options = {}) => lastValueFrom(from(beats).pipe(compareToTemplate(options), toArray()));

describe('compareToTemplate', () => {
  it('gives NaN until the template holds minBeats beats, then compares with the beats before', async () => {
    const out = await run(Array.from({ length: 10 }, (_, i) => beat(i, beatShape())), { minBeats: 4 });
    expect(out.slice(0, 4).every((b) => Number.isNaN(b.template?.qrsCorrelation))).toBe(true);
    for (const b of out.slice(4)) {
      expect(b.template?.qrsCorrelation).toBeCloseTo(1, 6);
      expect(b.template?.qrsAmplitudeRatio).toBeCloseTo(1, 6);
      expect(b.template?.qrsResidual).toBeCloseTo(0, 6);
    }
  });

  it('tells a wide inverted beat and a beat without P wave from the usual beat', async () => {
    const random = seededRandom(7);
    const noise = () => 0.01 * (random() - 0.5);
    const normal = Array.from({ length: 40 }, (_, i) => beat(i, beatShape({ noise })));
    const out = await run([...normal, beat(40, beatShape({ invert: true, width: 20, height: 1.5, noise })), beat(41, beatShape({ pWave: false, noise })), beat(42, beatShape({ noise }))]);
    const [v, s, n] = out.slice(40).map((b) => b.template!);
    expect(n.qrsCorrelation).toBeGreaterThan(0.99);
    expect(n.pCorrelation).toBeGreaterThan(0.9);
    expect(v.qrsCorrelation).toBeLessThan(0);
    expect(v.qrsAmplitudeRatio).toBeGreaterThan(1.2);
    expect(v.qrsResidual).toBeGreaterThan(0.5);
    expect(s.qrsCorrelation).toBeGreaterThan(0.99);
    expect(s.pCorrelation).toBeLessThan(0.3);
  });

  it('is a median: ectopic beats fewer than half of the template do not move it', async () => {
    // Bigeminy-like stream with one V beat every third beat: the normal beats still match the template exactly.
    const beats = Array.from({ length: 60 }, (_, i) => beat(i, i % 3 === 2 ? beatShape({ invert: true, width: 20 }) : beatShape()));
    const out = await run(beats, { templateBeats: 15 });
    for (const b of out.slice(20)) {
      if (b.sampleIndex % 900 === (1000 + 2 * 300) % 900) expect(b.template!.qrsCorrelation).toBeLessThan(0);
      else expect(b.template!.qrsResidual).toBeCloseTo(0, 6);
    }
  });

  it('keeps padded or non-finite windows out of the template, and streams apart', async () => {
    const flat = new Float32Array(360);
    const padded = Array.from({ length: 10 }, (_, i) => beat(i, flat, { paddedSamples: 20 }));
    const nan = Array.from({ length: 10 }, (_, i) => beat(10 + i, Float32Array.from(beatShape(), (v, j) => (j === 5 ? NaN : v))));
    const other = Array.from({ length: 10 }, (_, i) => beat(i, beatShape(), { streamId: 'other' }));
    const out = await run([...padded, ...nan, ...other, beat(30, beatShape())], { minBeats: 8 });
    expect(Number.isNaN(out[out.length - 1].template!.qrsCorrelation)).toBe(true); // stream 's' has no clean beat yet
    expect(out[out.length - 2].template!.qrsCorrelation).toBeCloseTo(1, 6); // stream 'other' had 9 before its 10th
  });

  it('gives the features of the median of the last templateBeats windows (property, against a direct computation)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 9 }), async (seed, templateBeats) => {
        const random = seededRandom(seed);
        const windows = Array.from({ length: 25 }, () => beatShape({ height: 0.5 + random(), width: 5 + 10 * random(), noise: () => 0.1 * (random() - 0.5) }));
        const out = await run(windows.map((w, i) => beat(i, w)), { templateBeats, minBeats: 1 });
        for (let i = 1; i < windows.length; i++) {
          const past = windows.slice(Math.max(0, i - templateBeats), i);
          const template = Float32Array.from({ length: 360 }, (_, j) => {
            const column = past.map((w) => w[j]).sort((a, b) => a - b);
            const n = column.length;
            return n % 2 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
          });
          expect(out[i].template!.qrsCorrelation).toBeCloseTo(correlation(windows[i], template, 151, 210), 5);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('attaches the usual beat: the beat itself until minBeats clean beats, then the template of the beats before', async () => {
    const random = seededRandom(3);
    const windows = Array.from({ length: 12 }, () => beatShape({ height: 0.5 + random(), noise: () => 0.1 * (random() - 0.5) }));
    const padded = beat(3, beatShape({ height: 5 }), { paddedSamples: 10 });
    const beats = windows.map((w, i) => beat(i, w));
    beats.splice(3, 0, padded); // a padded window gets a usual beat but does not shape one
    const out = await run(beats, { templateBeats: 4, minBeats: 2 });
    out.forEach((b, i) => {
      const before = beats.slice(0, i).filter((x) => x.paddedSamples === 0).slice(-4).map((x) => x.samples);
      const expected = before.length < 2 ? beats[i].samples : Float32Array.from({ length: 360 }, (_, j) => {
        const column = before.map((w) => w[j]).sort((a, c) => a - c);
        const n = column.length;
        return n % 2 ? column[(n - 1) / 2] : (column[n / 2 - 1] + column[n / 2]) / 2;
      });
      // Checked after the stream ended: each beat keeps its own copy, not the template buffer that moved on.
      expect(Array.from(b.usualBeat!), `beat ${i}`).toEqual(Array.from(expected));
    });
  });

  it('rejects bad options', () => {
    expect(() => compareToTemplate({ templateBeats: 0 })).toThrow(ConfigError);
    expect(() => compareToTemplate({ templateBeats: 4, minBeats: 5 })).toThrow(ConfigError);
  });
});

describe('bestLagCorrelation', () => {
  it('is the correlation at lag 0, finds a shifted copy within maxLag, and skips shifts that leave the array', () => {
    const x = beatShape({ noise: () => 0 });
    const later = shiftedBy(x, 5);
    expect(bestLagCorrelation(later, 150, 210, x, 150, 0)).toBe(correlation(later, x, 150, 210));
    expect(correlation(later, x, 150, 210)).toBeLessThan(0.9);
    expect(bestLagCorrelation(later, 150, 210, x, 150, 5)).toBeCloseTo(1, 6);
    expect(bestLagCorrelation(later, 150, 210, x, 150, 4)).toBeLessThan(0.99);
    // The template's region may sit elsewhere (a cluster keeps the QRS alone), and shifts past either end are skipped.
    expect(bestLagCorrelation(later, 150, 210, x.slice(150, 210), 0, 7)).toBeCloseTo(1, 6);
    expect(bestLagCorrelation(x, 0, 360, x, 0, 7)).toBeCloseTo(1, 6);
    expect(Number.isNaN(bestLagCorrelation(new Float32Array(20), 5, 15, new Float32Array(20), 5, 3))).toBe(true);
  });
});

describe('beat features', () => {
  it('packs RR then template features in BEAT_FEATURE_NAMES order, NaN when there is no template', () => {
    const b = beat(0, beatShape());
    const v = beatFeatureVector(b);
    expect(v.length).toBe(BEAT_FEATURE_NAMES.length);
    expect(v[0]).toBeCloseTo(0.833, 6);
    expect(v[8]).toBe(0); // localVariationOverLocal of a regular rhythm
    expect(Number.isNaN(v[BEAT_FEATURE_NAMES.indexOf('templateQrsCorrelation')])).toBe(true);
    const w = beatFeatureVector({ ...b, template: { qrsCorrelation: 0.5, pCorrelation: 0.4, tCorrelation: 0.3, qrsAmplitudeRatio: 2, qrsResidual: 0.1 } });
    expect(Array.from(w.slice(9))).toEqual([0.5, 0.4, 0.3, 2, 0.1].map(Math.fround));
  });

  it('selects a model\'s columns by name and names what is missing', () => {
    const columns = featureColumns(['a', 'b', 'c'], ['c', 'a']);
    expect(columns).toEqual([2, 0]);
    expect(Array.from(selectColumns(Float32Array.of(1, 2, 3, 4, 5, 6), 3, columns))).toEqual([3, 1, 6, 4]);
    expect(() => featureColumns(['a'], ['z'], 'test')).toThrow(/feature "z".*a/);
  });

  it('selects rows by index, in the order given, within [from, to)', () => {
    const rows = Float32Array.of(1, 2, 3, 4, 5, 6);
    expect(Array.from(selectRows(rows, 2, [2, 0]))).toEqual([5, 6, 1, 2]);
    expect(Array.from(selectRows(rows, 2, [2, 1, 1, 0], 1, 3))).toEqual([3, 4, 3, 4]);
    expect(selectRows(rows, 2, [])).toHaveLength(0);
  });
});
