import { describe, expect, it } from 'vitest';
import { byteRangeOfStream, decodeFrames, encodeFrames } from '../../src/wfdb/signalFormats.js';

const decode = (format: number, bytes: number[], g: number, fromFrame: number, n: number, init?: number[]): number[][] => {
  const out = Array.from({ length: g }, () => new Int32Array(n));
  decodeFrames(format, Uint8Array.from(bytes), g, fromFrame, n, out, 0, init ? Int32Array.from(init) : undefined);
  return out.map((a) => Array.from(a));
};

describe('decoders on hand-made bytes (signal(5) examples)', () => {
  it('212: 0x123 and -2 packed as 23 E1 FE; a range starting on the B sample', () => {
    // A = 0x123: byte0 = 0x23, low nibble of byte1 = 0x1; B = -2 = 0xFFE: high nibble of byte1 = 0xF, byte2 = 0xFE.
    expect(decode(212, [0x23, 0xf1, 0xfe], 2, 0, 1)).toEqual([[0x123], [-2]]);
    // 3 signals: stream A B | A B | A B ... frame 0 = (s0, s1, s2) = (1, 2, 3), frame 1 = (4, 5, 6)
    const bytes = Array.from(encodeFrames(212, [Int32Array.of(1, 4), Int32Array.of(2, 5), Int32Array.of(3, 6)]));
    expect(bytes).toEqual([0x01, 0x00, 0x02, 0x03, 0x00, 0x04, 0x05, 0x00, 0x06]);
    // frame 1 starts at stream sample 3 = the B half of the second pair
    const { start, end } = byteRangeOfStream(212, 3, 6);
    expect([start, end]).toEqual([3, 9]);
    expect(decode(212, bytes.slice(start, end), 3, 1, 1)).toEqual([[4], [5], [6]]);
    expect(byteRangeOfStream(212, 0, 1)).toEqual({ start: 0, end: 2 }); // a lone A needs 2 bytes
  });
  it('212: extremes -2048 and 2047', () => {
    expect(decode(212, [0x00, 0x78, 0xff], 2, 0, 1)).toEqual([[-2048], [2047]]);
  });
  it('16: little-endian two\'s complement', () => {
    expect(decode(16, [0x34, 0x12, 0xff, 0xff, 0x00, 0x80], 1, 0, 3)).toEqual([[0x1234, -1, -32768]]);
  });
  it('80: offset binary', () => {
    expect(decode(80, [0x80, 0x00, 0xff], 3, 0, 1)).toEqual([[0], [-128], [127]]);
  });
  it('8: first differences from the initial value, per signal', () => {
    expect(decode(8, [0x01, 0xff, 0x02, 0xfe], 2, 0, 2, [100, 10])).toEqual([[101, 103], [9, 7]]);
  });
});
