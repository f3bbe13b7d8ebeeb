import Fili from 'fili';
import type { BiquadCoeffs } from 'fili';

/**
 * Internal helper of bandpass and detectRPeaks: a cascade of second-order sections (biquads) designed by fili and run
 * by a typed-array loop.
 *
 * Why not fili's own `IirFilter.multiStep`: it walks an array of per-stage objects holding `{re, im}` pairs and returns
 * a fresh `number[]` per call, about 10x slower than the loop below, and the product's throughput target
 * (>= 20 M samples/s per core, file to R-peaks) leaves a few ns per sample per stage. The coefficients are fili's,
 * unchanged; only the loop is ours. The loop is Direct Form II transposed (two state words per section, better
 * round-off than DF I at low cut-offs such as 0.5 Hz at 360 Hz), in float64, computing the same transfer function
 * `k * (b0 + b1 z^-1 + b2 z^-2) / (1 + a1 z^-1 + a2 z^-2)` per section as fili's Direct Form II `runStage`.
 *
 * State lives in the instance; each subscription of an operator creates its own, so the output does not depend on how
 * the input is split into chunks.
 */
export class BiquadCascade {
  // Coefficients and state are public for loops that fuse the cascade with later per-sample work (the detector's
  // 5-15 Hz filter inside its derivative/integration loop): such a loop keeps them in locals, must compute each
  // section exactly as `run` does (same operations in the same order, so the output is bit-identical), and writes
  // the state back when it is done.
  /** Per section: k*b0, k*b1, k*b2, a1, a2. */
  readonly coeffs: Float64Array;
  /** Per section: s1, s2 (DF-II-T state). */
  readonly state: Float64Array;
  readonly sections: number;
  /** Last valid input, fed in place of NaN. */
  held = 0;
  /** False until the first valid sample (and again after reset). */
  started = false;

  constructor(designs: readonly BiquadCoeffs[]) {
    this.sections = designs.length;
    this.coeffs = new Float64Array(5 * designs.length);
    this.state = new Float64Array(2 * designs.length);
    designs.forEach((d, i) => {
      const k = d.k;
      this.coeffs.set([k * d.b[0]!, k * d.b[1]!, k * d.b[2]!, d.a[0]!, d.a[1]!], 5 * i);
    });
  }

  /** Clears the filter memory (as after a gap in the stream). */
  reset(): void {
    this.state.fill(0);
    this.held = 0;
    this.started = false;
  }

  /** Sets the state to the steady state for a constant input `x` (done by `run` at the first valid sample). */
  settle(x: number): void {
    const c = this.coeffs;
    const s = this.state;
    this.held = x;
    this.started = true;
    let u = x;
    for (let j = 0; j < this.sections; j++) {
      const b0 = c[5 * j]!, b1 = c[5 * j + 1]!, b2 = c[5 * j + 2]!, a1 = c[5 * j + 3]!, a2 = c[5 * j + 4]!;
      const dcGain = (b0 + b1 + b2) / (1 + a1 + a2);
      const y = Number.isFinite(dcGain) ? u * dcGain : 0;
      // Steady state of DF-II-T: y = b0 u + s1, s1 = b1 u - a1 y + s2, s2 = b2 u - a2 y.
      const s2 = b2 * u - a2 * y;
      s[2 * j + 1] = s2;
      s[2 * j] = b1 * u - a1 * y + s2;
      u = y;
    }
  }

  /**
   * Filters `input` into `output` (at least as long), over the whole block with coefficients and state in locals;
   * the fixed array types keep the loop monomorphic (callers that need float32 use `runFloat32`).
   *
   * NaN (a missing sample) must not enter the recursion: one NaN in an IIR state stays there forever. The first
   * section therefore feeds the last valid input instead (sample-and-hold, as a front-end does during a dropout) and
   * the output gets NaN back at the same positions, so downstream stages still see the sample as missing.
   * Returns the number of NaN samples in `input`.
   *
   * The rare paths (the stream's first samples, putting NaN back) are separate methods, so the compiled loop holds no
   * code that has never run, which would send it back to the interpreter the first time a NaN comes.
   */
  run(input: Float32Array, output: Float64Array): number {
    const c = this.coeffs;
    const s = this.state;
    const n = input.length;
    const i0 = this.started ? 0 : this.begin(input, output);
    if (i0 === n) return n;
    // Sections two at a time in one loop: each section is a serial recurrence (latency-bound), and fusing two lets
    // the CPU overlap them; the pair's arithmetic per sample is exactly that of two separate passes.
    let held = this.held;
    let missing = false;
    for (let j = 0; j < this.sections; j += 2) {
      const first = j === 0;
      const k = 5 * j;
      const b0 = c[k]!, b1 = c[k + 1]!, b2 = c[k + 2]!, a1 = c[k + 3]!, a2 = c[k + 4]!;
      let s1 = s[2 * j]!, s2 = s[2 * j + 1]!;
      if (j + 1 < this.sections) {
        const e0 = c[k + 5]!, e1 = c[k + 6]!, e2 = c[k + 7]!, f1 = c[k + 8]!, f2 = c[k + 9]!;
        let t1 = s[2 * j + 2]!, t2 = s[2 * j + 3]!;
        for (let i = i0; i < n; i++) {
          let u: number;
          if (first) {
            u = input[i]!;
            if (u !== u) {
              u = held; // sample-and-hold into the filter
              missing = true;
            } else held = u;
          } else u = output[i]!;
          const y = b0 * u + s1;
          s1 = b1 * u - a1 * y + s2;
          s2 = b2 * u - a2 * y;
          const z = e0 * y + t1;
          t1 = e1 * y - f1 * z + t2;
          t2 = e2 * y - f2 * z;
          output[i] = z;
        }
        s[2 * j + 2] = t1;
        s[2 * j + 3] = t2;
      } else {
        for (let i = i0; i < n; i++) {
          let u: number;
          if (first) {
            u = input[i]!;
            if (u !== u) {
              u = held;
              missing = true;
            } else held = u;
          } else u = output[i]!;
          const y = b0 * u + s1;
          s1 = b1 * u - a1 * y + s2;
          s2 = b2 * u - a2 * y;
          output[i] = y;
        }
      }
      s[2 * j] = s1;
      s[2 * j + 1] = s2;
    }
    this.held = held;
    return missing || i0 > 0 ? restoreNaN(input, output) : 0;
  }

  /**
   * Filters `input` into the float32 `output` (at least as long): the same values as `run` followed by a float32
   * copy, bit for bit (each output is rounded to float32 once, from the same float64). Cascades of one or two sections
   * (bandpass's default 0.5-40 Hz design) are run straight into `output` in one pass; longer ones go through
   * `run` into `scratch` (at least as long as `input`) and are copied. Returns the number of NaN samples in `input`.
   */
  runFloat32(input: Float32Array, output: Float32Array, scratch: Float64Array): number {
    const n = input.length;
    if (this.sections > 2 || this.sections === 0) return this.runFloat32Long(input, output, scratch);
    const c = this.coeffs;
    const s = this.state;
    const i0 = this.started ? 0 : this.begin(input, output);
    if (i0 === n) return n;
    let held = this.held;
    let missing = false;
    const b0 = c[0]!, b1 = c[1]!, b2 = c[2]!, a1 = c[3]!, a2 = c[4]!;
    let s1 = s[0]!, s2 = s[1]!;
    if (this.sections === 2) {
      const e0 = c[5]!, e1 = c[6]!, e2 = c[7]!, f1 = c[8]!, f2 = c[9]!;
      let t1 = s[2]!, t2 = s[3]!;
      for (let i = i0; i < n; i++) {
        let u = input[i]!;
        if (u !== u) {
          u = held;
          missing = true;
        } else held = u;
        const y = b0 * u + s1;
        s1 = b1 * u - a1 * y + s2;
        s2 = b2 * u - a2 * y;
        const z = e0 * y + t1;
        t1 = e1 * y - f1 * z + t2;
        t2 = e2 * y - f2 * z;
        output[i] = z;
      }
      s[2] = t1;
      s[3] = t2;
    } else {
      for (let i = i0; i < n; i++) {
        let u = input[i]!;
        if (u !== u) {
          u = held;
          missing = true;
        } else held = u;
        const y = b0 * u + s1;
        s1 = b1 * u - a1 * y + s2;
        s2 = b2 * u - a2 * y;
        output[i] = y;
      }
    }
    s[0] = s1;
    s[1] = s2;
    this.held = held;
    return missing || i0 > 0 ? restoreNaN(input, output) : 0;
  }

  /** runFloat32 of a cascade longer than two sections (through `run` and `scratch`), or of none (a copy). */
  private runFloat32Long(input: Float32Array, output: Float32Array, scratch: Float64Array): number {
    const n = input.length;
    if (this.sections === 0) {
      for (let i = 0; i < n; i++) output[i] = input[i]!; // no sections: identity (NaN stays NaN)
      return restoreNaN(input, output);
    }
    const nanCount = this.run(input, scratch);
    for (let i = 0; i < n; i++) output[i] = scratch[i]!; // a JIT-compiled loop beats set() across array types
    return nanCount;
  }

  /**
   * Before the first valid sample the filter has no input: outputs NaN up to it, then starts in the steady state of
   * that sample, so a signal that starts at an offset does not ring through the high-pass for seconds. Returns the
   * position of that sample (input.length if none).
   */
  private begin(input: Float32Array, output: Float32Array | Float64Array): number {
    let i0 = 0;
    while (i0 < input.length && input[i0] !== input[i0]) output[i0++] = NaN;
    if (i0 < input.length) this.settle(input[i0]!);
    return i0;
  }
}

/** Puts NaN back into `output` where `input` is NaN; returns how many. */
function restoreNaN(input: Float32Array, output: Float32Array | Float64Array): number {
  let count = 0;
  for (let i = 0; i < input.length; i++) {
    if (input[i] !== input[i]) {
      output[i] = NaN;
      count++;
    }
  }
  return count;
}

/**
 * Butterworth sections from fili for a band from `lowHz` to `highHz` (either may be omitted for a pure high- or
 * low-pass), each edge of order `order` (even: fili designs second-order sections, its `order` counts sections).
 */
export function butterworthBand(fsHz: number, lowHz: number | undefined, highHz: number | undefined, order: number): BiquadCoeffs[] {
  const calc = new Fili.CalcCascades();
  const sections = order / 2;
  const designs: BiquadCoeffs[] = [];
  if (lowHz !== undefined) designs.push(...calc.highpass({ order: sections, characteristic: 'butterworth', Fs: fsHz, Fc: lowHz }));
  if (highHz !== undefined) designs.push(...calc.lowpass({ order: sections, characteristic: 'butterworth', Fs: fsHz, Fc: highHz }));
  return designs;
}

/**
 * Group delay of a cascade at `hz`, samples: the sum over sections of the numerator's minus the denominator's delay,
 * each `Re(sum k c_k e^{-jwk} / sum c_k e^{-jwk})` for the polynomial `sum c_k z^-k`.
 */
export function groupDelaySamples(designs: readonly BiquadCoeffs[], fsHz: number, hz: number): number {
  const w = (2 * Math.PI * hz) / fsHz;
  const polyDelay = (c: readonly number[]): number => {
    let re = 0, im = 0, kre = 0, kim = 0;
    c.forEach((ck, k) => {
      re += ck * Math.cos(w * k);
      im -= ck * Math.sin(w * k);
      kre += k * ck * Math.cos(w * k);
      kim -= k * ck * Math.sin(w * k);
    });
    return (kre * re + kim * im) / (re * re + im * im);
  };
  return designs.reduce((sum, d) => sum + polyDelay([d.b[0]!, d.b[1]!, d.b[2]!]) - polyDelay([1, d.a[0]!, d.a[1]!]), 0);
}
