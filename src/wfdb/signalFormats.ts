/**
 * WFDB signal storage formats: which exist, which this reader decodes (8, 16, 80, 212), and the decoders.
 *
 * Signals that share a file are interleaved: frame t holds sample t of signal 0, then of signal 1, ... (one sample per
 * signal per frame; this reader does not implement samples-per-frame > 1). The decoders below see the file as one
 * *stream* of samples, stream index k = frame * g + signal, for a group of g signals, and turn a stretch of that stream
 * into one Int32Array per signal. Values are the raw ADC units the file stores.
 *
 * References: WFDB signal(5) https://physionet.org/physiotools/wag/signal-5.htm ; WFDB library lib/signal.c
 * (`r212`, `r16`, `r80`, `r8`); wfdb-python `_blocks_to_samples`.
 */

/** One row of the format table. */
export interface FormatInfo {
  name: string;
  /** Default ADC resolution, bits, when the header gives none. */
  bits: number;
  /** Raw value WFDB reserves for "no sample" in this format (read as NaN in physical units); undefined if none. */
  invalidAdc?: number;
}

/** Every storage format WFDB defines (signal(5)); `bits` is the default ADC resolution. */
export const FORMAT_INFO: Readonly<Record<number, FormatInfo>> = {
  0: { name: 'null signal', bits: 12 },
  8: { name: '8-bit first differences', bits: 8 },
  16: { name: '16-bit two\'s complement, little-endian', bits: 16, invalidAdc: -32768 },
  24: { name: '24-bit two\'s complement, little-endian', bits: 24 },
  32: { name: '32-bit two\'s complement, little-endian', bits: 32 },
  61: { name: '16-bit two\'s complement, big-endian', bits: 16 },
  80: { name: '8-bit offset binary', bits: 8, invalidAdc: -128 },
  160: { name: '16-bit offset binary', bits: 16 },
  212: { name: '12-bit packed, 2 samples in 3 bytes', bits: 12, invalidAdc: -2048 },
  310: { name: '10-bit packed, 3 samples in 4 bytes', bits: 10 },
  311: { name: '10-bit packed, 3 samples in 4 bytes (LSB first)', bits: 10 },
  508: { name: 'FLAC 8-bit', bits: 8 },
  516: { name: 'FLAC 16-bit', bits: 16 },
  524: { name: 'FLAC 24-bit', bits: 24 },
};

/** Formats this reader decodes. */
export const SUPPORTED_FORMATS: readonly number[] = [8, 16, 80, 212];

export const isKnownFormat = (format: number): boolean => Object.prototype.hasOwnProperty.call(FORMAT_INFO, format);
export const isSupportedFormat = (format: number): boolean => SUPPORTED_FORMATS.includes(format);

/**
 * Byte range `[start, end)`, relative to the start of the signal data, that holds stream samples `[k0, k1)`.
 * For 212 the range starts at the 3-byte pair holding k0 and ends at the last byte sample k1-1 needs
 * (an even-indexed last sample needs only the first 2 bytes of its pair).
 */
export function byteRangeOfStream(format: number, k0: number, k1: number): { start: number; end: number } {
  switch (format) {
    case 16:
      return { start: k0 * 2, end: k1 * 2 };
    case 8:
    case 80:
      return { start: k0, end: k1 };
    case 212: {
      const start = Math.floor(k0 / 2) * 3;
      if (k1 <= k0) return { start, end: start };
      const last = k1 - 1;
      return { start, end: Math.floor(last / 2) * 3 + (last % 2 === 0 ? 2 : 3) };
    }
    default:
      throw new RangeError(`byteRangeOfStream: format ${format} is not supported`);
  }
}

/**
 * Decodes frames `[fromFrame, fromFrame + numFrames)` of a group of `g` interleaved signals.
 *
 * @param bytes the signal data starting at `byteRangeOfStream(format, fromFrame * g, ...).start`
 * @param out one array per signal of the group; frame `fromFrame + i` goes to `out[s][outOffset + i]`
 * @param diffState format 8 only: the running value of each signal (initial values at frame 0), updated in place
 */
export function decodeFrames(
  format: number,
  bytes: Uint8Array,
  g: number,
  fromFrame: number,
  numFrames: number,
  out: readonly Int32Array[],
  outOffset = 0,
  diffState?: Int32Array,
): void {
  if (numFrames <= 0 || g <= 0) return;
  switch (format) {
    case 212:
      return decode212(bytes, g, fromFrame * g, numFrames, out, outOffset);
    case 16: {
      // Each sample: 2 bytes, little-endian two's complement.
      let p = 0;
      for (let i = outOffset, end = outOffset + numFrames; i < end; i++) {
        for (let s = 0; s < g; s++, p += 2) out[s]![i] = ((bytes[p]! | (bytes[p + 1]! << 8)) << 16) >> 16;
      }
      return;
    }
    case 80: {
      // Each sample: 1 byte, offset binary (stored value = sample + 128).
      let p = 0;
      for (let i = outOffset, end = outOffset + numFrames; i < end; i++) {
        for (let s = 0; s < g; s++) out[s]![i] = bytes[p++]! - 128;
      }
      return;
    }
    case 8: {
      // Each byte: signed difference from the signal's previous sample; the first one is relative to the initial value.
      if (!diffState || diffState.length < g) throw new RangeError('decodeFrames: format 8 needs diffState');
      let p = 0;
      for (let i = outOffset, end = outOffset + numFrames; i < end; i++) {
        for (let s = 0; s < g; s++) out[s]![i] = diffState[s] = (diffState[s]! + ((bytes[p++]! << 24) >> 24)) | 0;
      }
      return;
    }
    default:
      throw new RangeError(`decodeFrames: format ${format} is not supported`);
  }
}

/**
 * Decodes one signal of a group of `g` interleaved signals, frames `[fromFrame, fromFrame + numFrames)`, straight to
 * physical units: `out[i] = raw === invalidAdc ? NaN : (raw - baseline) * scale`, the same values (same float64
 * operations, one rounding to float32) as {@link decodeFrames} followed by record.ts's `adcToPhysical`, without the
 * intermediate ADC array and without decoding the group's other signals. Formats 16, 80 and 212 (format 8 needs the
 * running sum of every earlier frame: use decodeFrames).
 *
 * @param bytes the signal data starting at `byteRangeOfStream(format, fromFrame * g, ...).start`
 * @param position the signal's place in the group (0 ... g - 1)
 * @param invalidAdc the format's invalid-sample value (NaN: none)
 */
export function decodeSignalScaled(
  format: number,
  bytes: Uint8Array,
  g: number,
  fromFrame: number,
  numFrames: number,
  position: number,
  baseline: number,
  scale: number,
  invalidAdc: number,
  out: Float32Array,
): void {
  switch (format) {
    case 212: {
      // Stream index of the sample relative to the first byte's pair: the pair is r >> 1, the half r & 1 (constant
      // per signal when g is even, as in MIT-BIH, so the branch is predictable).
      let r = ((fromFrame * g) & 1) + position;
      for (let i = 0; i < numFrames; i++, r += g) {
        const p = (r >> 1) * 3;
        const b1 = bytes[p + 1]!;
        const v = (r & 1) === 0 ? (((b1 & 0x0f) << 8) | bytes[p]!) << 20 >> 20 : (((b1 & 0xf0) << 4) | bytes[p + 2]!) << 20 >> 20;
        out[i] = v === invalidAdc ? Number.NaN : (v - baseline) * scale;
      }
      return;
    }
    case 16: {
      for (let i = 0, p = 2 * position; i < numFrames; i++, p += 2 * g) {
        const v = ((bytes[p]! | (bytes[p + 1]! << 8)) << 16) >> 16;
        out[i] = v === invalidAdc ? Number.NaN : (v - baseline) * scale;
      }
      return;
    }
    case 80: {
      for (let i = 0, p = position; i < numFrames; i++, p += g) {
        const v = bytes[p]! - 128;
        out[i] = v === invalidAdc ? Number.NaN : (v - baseline) * scale;
      }
      return;
    }
    default:
      throw new RangeError(`decodeSignalScaled: format ${format} is not supported`);
  }
}

/**
 * Format 212: two 12-bit two's complement samples packed in 3 bytes, in stream order (the pair may straddle frames
 * when g is odd):
 * ```
 *   byte 0: bits 7..0 of sample A
 *   byte 1: bits 3..0 = bits 11..8 of sample A,  bits 7..4 = bits 11..8 of sample B
 *   byte 2: bits 7..0 of sample B
 * ```
 * Sign extension: a 12-bit value v becomes (v << 20) >> 20 in 32-bit arithmetic.
 */
function decode212(bytes: Uint8Array, g: number, k0: number, numFrames: number, out: readonly Int32Array[], outOffset: number): void {
  const total = numFrames * g;
  if (g === 2 && (k0 & 1) === 0) {
    // Common case (MIT-BIH): one pair per frame, 3 bytes per frame.
    const a = out[0]!;
    const b = out[1]!;
    let p = 0;
    const end = outOffset + numFrames;
    for (let i = outOffset; i < end; i++, p += 3) {
      const b1 = bytes[p + 1]!;
      a[i] = (((b1 & 0x0f) << 8) | bytes[p]!) << 20 >> 20; // A: low nibble of byte 1 above byte 0
      b[i] = (((b1 & 0xf0) << 4) | bytes[p + 2]!) << 20 >> 20; // B: high nibble of byte 1 above byte 2
    }
    return;
  }
  let s = 0; // signal of the next output sample
  let i = outOffset; // frame index in out
  let p = 0;
  let done = 0;
  const emit = (v: number): void => {
    out[s]![i] = v;
    if (++s === g) {
      s = 0;
      i++;
    }
  };
  if (k0 & 1) {
    // Starts on the second sample (B) of a pair.
    emit((((bytes[1]! & 0xf0) << 4) | bytes[2]!) << 20 >> 20);
    p = 3;
    done = 1;
  }
  for (; done + 1 < total; done += 2, p += 3) {
    const b1 = bytes[p + 1]!;
    emit((((b1 & 0x0f) << 8) | bytes[p]!) << 20 >> 20);
    emit((((b1 & 0xf0) << 4) | bytes[p + 2]!) << 20 >> 20);
  }
  if (done < total) emit((((bytes[p + 1]! & 0x0f) << 8) | bytes[p]!) << 20 >> 20); // trailing A of a pair
}

/**
 * Encodes frames of a group of `g` signals (one Int32Array per signal, same length) as the signal file would hold them:
 * the inverse of {@link decodeFrames} from frame 0. Values are clamped to the format's range as WFDB's writer does;
 * format 8 writes clamped differences from `initialValues` (so steep signals are not reproduced exactly, as in WFDB).
 * Used to build test records and fixtures.
 */
export function encodeFrames(format: number, signals: readonly Int32Array[], initialValues?: readonly number[]): Uint8Array {
  const g = signals.length;
  const n = g === 0 ? 0 : signals[0]!.length;
  const clamp = (v: number, lo: number, hi: number): number => (v < lo ? lo : v > hi ? hi : v);
  switch (format) {
    case 16: {
      const out = new Uint8Array(n * g * 2);
      let p = 0;
      for (let i = 0; i < n; i++) {
        for (let s = 0; s < g; s++) {
          const v = clamp(signals[s]![i]!, -32768, 32767);
          out[p++] = v & 0xff;
          out[p++] = (v >> 8) & 0xff;
        }
      }
      return out;
    }
    case 80: {
      const out = new Uint8Array(n * g);
      let p = 0;
      for (let i = 0; i < n; i++) for (let s = 0; s < g; s++) out[p++] = clamp(signals[s]![i]!, -128, 127) + 128;
      return out;
    }
    case 8: {
      const out = new Uint8Array(n * g);
      const prev = Int32Array.from({ length: g }, (_, s) => initialValues?.[s] ?? 0);
      let p = 0;
      for (let i = 0; i < n; i++) {
        for (let s = 0; s < g; s++) {
          const d = clamp(signals[s]![i]! - prev[s]!, -128, 127);
          prev[s] = prev[s]! + d;
          out[p++] = d & 0xff;
        }
      }
      return out;
    }
    case 212: {
      const total = n * g;
      // Pairs of 3 bytes; an odd final sample still takes a whole pair (its B half zero), as WFDB pads it.
      const out = new Uint8Array(Math.ceil(total / 2) * 3);
      let s = 0;
      let i = 0;
      for (let k = 0; k < total; k++) {
        const v = clamp(signals[s]![i]!, -2048, 2047) & 0xfff;
        const p = (k >> 1) * 3;
        if ((k & 1) === 0) {
          out[p] = v & 0xff; // A: bits 7..0 in byte 0
          out[p + 1] = (out[p + 1]! & 0xf0) | (v >> 8); // A: bits 11..8 in the low nibble of byte 1
        } else {
          out[p + 1] = (out[p + 1]! & 0x0f) | ((v >> 4) & 0xf0); // B: bits 11..8 in the high nibble of byte 1
          out[p + 2] = v & 0xff; // B: bits 7..0 in byte 2
        }
        if (++s === g) {
          s = 0;
          i++;
        }
      }
      return out;
    }
    default:
      throw new RangeError(`encodeFrames: format ${format} is not supported`);
  }
}
