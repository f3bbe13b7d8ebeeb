import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireFormatError } from '../../src/errors.js';
import { BEAT_CLASSES, type BeatClass, type BeatClassification } from '../../src/types.js';
import { classifiedBeatMessage, decodeBeatMessage, detectedBeatMessage, encodeBeatMessage, WIRE_VERSION } from '../../src/wire/beatMessage.js';

const classification = (extra: Partial<BeatClassification> = {}): BeatClassification => ({
  streamId: 'mitdb/100', sampleIndex: 370, fsHz: 360, beatClass: 'N', probabilities: [0.91, 0.05, 0.03, 0.01, 0], model: 'mshan-inter', ...extra,
});
const rr = { previousRrMs: 810, nextRrMs: 790, localMeanRrMs: 800, recordMeanRrMs: 805, localVariationRrMs: 12 };

/** The error a text raises when decoded (fails the test when it decodes). */
function decodeError(text: string): WireFormatError {
  try {
    decodeBeatMessage(text);
  } catch (error) {
    expect(error).toBeInstanceOf(WireFormatError);
    expect((error as WireFormatError).code).toBe('ECG_ERR_BAD_MESSAGE');
    return error as WireFormatError;
  }
  throw new Error(`decoded: ${text}`);
}

describe('beat message (wire schema version 1)', () => {
  it('round-trips a classified beat, a beat a rule changed, and a detected beat', () => {
    for (const message of [
      classifiedBeatMessage(classification()),
      classifiedBeatMessage(classification({ beatClass: 'N', modelClass: 'S', rhythm: { atrialFibrillation: true, normalisedRmssd: 0.2, shannonEntropy: 0.8, turningPointZ: 0.1 } })),
      detectedBeatMessage({ streamId: 'bed-7', sampleIndex: 1200, fsHz: 360, rr }),
    ]) {
      const line = encodeBeatMessage(message);
      expect(line).not.toContain('\n');
      expect(decodeBeatMessage(line)).toEqual(message);
      expect(JSON.parse(line).version).toBe(WIRE_VERSION);
    }
    const changed = classifiedBeatMessage(classification({ modelClass: 'S' }));
    expect(changed).toMatchObject({ beatClass: 'N', modelClass: 'S' });
    expect(classifiedBeatMessage(classification())).not.toHaveProperty('modelClass');
  });

  it('any classification round-trips (property)', () => {
    const probabilities = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 5, maxLength: 5 }).filter((p) => p.reduce((a, b) => a + b, 0) > 0).map((p) => {
      const sum = p.reduce((a, b) => a + b, 0);
      return p.map((x) => x / sum);
    });
    fc.assert(fc.property(fc.string({ minLength: 1 }), fc.nat(), fc.constantFrom(...BEAT_CLASSES), probabilities, (streamId, sampleIndex, beatClass, p) => {
      const message = classifiedBeatMessage(classification({ streamId, sampleIndex, beatClass: beatClass as BeatClass, probabilities: p }));
      expect(decodeBeatMessage(encodeBeatMessage(message))).toEqual(message);
    }));
  });

  it('refuses, naming the field: another version, missing or extra fields, bad values, not JSON', () => {
    const good = JSON.parse(encodeBeatMessage(classifiedBeatMessage(classification())));
    const bad = (change: Record<string, unknown>) => JSON.stringify({ ...good, ...change });
    expect(decodeError(bad({ version: 2 })).message).toMatch(/version 2, this monitor reads version 1/);
    expect(decodeError(bad({ version: undefined })).message).toMatch(/no version, this monitor reads version 1/);
    expect(decodeError('[1, 2]').message).toMatch(/no version/);
    expect(decodeError(bad({ streamId: undefined })).message).toMatch(/streamId: Required/);
    expect(decodeError(bad({ probabilities: [0.5, 0.5, 0, 0] })).message).toMatch(/probabilities: .*5/);
    expect(decodeError(bad({ probabilities: [0.9, 0.9, 0, 0, 0] })).message).toMatch(/probabilities: must sum to 1/);
    expect(decodeError(bad({ probabilities: [null, 1, 0, 0, 0] })).message).toMatch(/probabilities\.0/); // NaN becomes null in JSON
    expect(decodeError(bad({ beatClass: 'X' })).message).toMatch(/beatClass/);
    expect(decodeError(bad({ sampleIndex: -1 })).message).toMatch(/sampleIndex/);
    expect(decodeError(bad({ modelClass: 'N' })).message).toMatch(/modelClass: modelClass is sent only where a rule changed the class/);
    expect(decodeError(bad({ colour: 'red' })).message).toMatch(/colour/);
    expect(decodeError(bad({ model: undefined })).message).toMatch(/a classified beat carries probabilities and model/);
    expect(decodeError(JSON.stringify({ version: 1, type: 'beat', streamId: 's', sampleIndex: 1, fsHz: 360 })).message).toMatch(/rr: a beat that is not classified carries its RR intervals/);
    expect(decodeError('{"version":1,').message).toMatch(/not JSON/);
  });

  it('refuses to write a bad message: nothing malformed leaves the process', () => {
    expect(() => encodeBeatMessage(classifiedBeatMessage(classification({ probabilities: [NaN, 1, 0, 0, 0] })))).toThrow(WireFormatError);
    expect(() => encodeBeatMessage(detectedBeatMessage({ streamId: '', sampleIndex: 0, fsHz: 360, rr }))).toThrow(/streamId/);
  });
});
