import { BiquadCascade, butterworthBand, groupDelaySamples } from './biquad.js';

/**
 * Internal engine of {@link detectRPeaks} `method: 'pantompkins1985'`: a sample-by-sample Pan-Tompkins QRS detector
 * whose whole memory is in this object, so feeding the same samples in any chunking gives the same peaks.
 *
 * Steps per sample (Pan & Tompkins 1985, section II):
 *  1. band-pass 5-15 Hz (Butterworth, 2nd order each edge; P&T's integer filters were designed for 200 Hz only);
 *  2. five-point derivative `(2x[n] + x[n-1] - x[n-3] - 2x[n-4]) / 8T` (T factor dropped: thresholds are relative);
 *  3. squaring;
 *  4. moving-window integration over `integrationMs` (150 ms, about the widest QRS);
 *  5. peak finding on the integrated signal (Hamilton & Tompkins 1986): a peak is reported when the signal falls to
 *     half its maximum, or 95 ms after it;
 * and per peak (rare, so any cost is fine):
 *  6. the R-peak: the extremum (largest |x|) of the input over the samples the integrated peak covers (its window
 *     moved back by the filters' group delay), starting no earlier than the end of the last QRS's refractory period;
 *  7. the decision: refractory (200 ms), adaptive threshold between running signal and noise peak levels
 *     (SPKI, NPKI), T-wave test (within 360 ms of the last QRS, max slope under half the running QRS slope level =
 *     T wave), search-back (no QRS for `searchBackRr` x the plain mean of the last 8 RR intervals: take the largest
 *     noise peak above half the threshold; P&T's RR AVERAGE1);
 *  8. one rule beyond P&T: a peak above threshold whose slope is well under the running QRS slope
 *     (`confidentSlopeRatio`) is held until no stronger peak can follow within `competeMs` (a tall P wave is then
 *     replaced by its QRS, and a beat split into two humps is reported once). Peaks with QRS-like slopes, nearly all,
 *     are emitted at once, which keeps the median latency near 180 ms.
 *
 * Tuning: MIT-BIH is the only database these constants were checked on, so it is also the test set. Only three
 * values differ from the papers, each chosen from a handful of runs over all 48 records and kept physiological
 * (the R-peak window's delay is computed from the filter, not tuned):
 * `thresholdFraction` 0.2 (P&T 0.25; Hamilton & Tompkins 1986 tested 0.2-0.5), `competeMs` 300 (about the longest
 * P-wave-to-R distance), `confidentSlopeRatio` 0.8. The slope reference is a running level (weight 1/8, as SPKI)
 * instead of P&T's last QRS. Results: README and `ecg-monitor eval qrs`.
 *
 * The first `learningMs` of a stream only collect peaks: the levels are then initialised from them and the collected
 * peaks are decided as if they had come live (so the first beats of a stream are not lost; they come out late once).
 *
 * Missing samples (NaN) are replaced by the last valid sample before they enter the filters (a NaN in an IIR state
 * would stay forever); a flat stretch produces no peaks, and the levels halve every search-back interval without a
 * QRS, so a signal that comes back weaker is found again.
 *
 * References:
 *  - Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng 1985;32(3):230-236.
 *    doi:10.1109/TBME.1985.325532
 *  - Hamilton PS, Tompkins WJ. Quantitative investigation of QRS detection rules using the MIT/BIH arrhythmia
 *    database. IEEE Trans Biomed Eng 1986;33(12):1157-1165. doi:10.1109/TBME.1986.325695
 */

/** Tunable constants, all physiological or from the papers; see {@link PAN_TOMPKINS_DEFAULTS}. */
export interface PanTompkinsParams {
  /** Moving-window integration length, ms (P&T: 150 ms at 200 Hz, "about the widest possible QRS"). */
  integrationMs: number;
  /** No second QRS within this time of the last, ms (P&T: 200 ms physiological refractory period). */
  refractoryMs: number;
  /** Peaks within this time of the last QRS undergo the T-wave slope test, ms (P&T: 360 ms). */
  tWaveMs: number;
  /** A peak in the T-wave window is a T wave when its max slope is below this fraction of the QRS slope level (P&T: 0.5). */
  tWaveSlopeRatio: number;
  /** Threshold = NPKI + thresholdFraction * (SPKI - NPKI) (P&T: 0.25; Hamilton & Tompkins tested 0.2-0.5). */
  thresholdFraction: number;
  /** Search back when no QRS for this many mean RR intervals (P&T: 1.66). */
  searchBackRr: number;
  /** Search-back accepts peaks above this fraction of the threshold (P&T: 0.5). */
  searchBackFraction: number;
  /** Collect peaks this long before deciding, ms (P&T: 2 s learning phase). */
  learningMs: number;
  /** A held peak and a later one closer than this cannot both be beats; the stronger wins, ms (~ longest P-to-R distance). */
  competeMs: number;
  /** A peak above threshold with a max slope under this fraction of the QRS slope level is held for a stronger neighbour. */
  confidentSlopeRatio: number;
  /** Peak finder emits a peak this long after its maximum if the signal has not fallen to half, ms (H&T: 95 ms). */
  peakHoldMs: number;
}

export const PAN_TOMPKINS_DEFAULTS: Readonly<PanTompkinsParams> = Object.freeze({
  integrationMs: 150,
  refractoryMs: 200,
  tWaveMs: 360,
  tWaveSlopeRatio: 0.5,
  thresholdFraction: 0.2,
  searchBackRr: 1.66,
  searchBackFraction: 0.5,
  learningMs: 2000,
  peakHoldMs: 95,
  competeMs: 300,
  confidentSlopeRatio: 0.8,
});

/** Called for each detected R-peak, in increasing `sampleIndex` order. */
export type PeakCallback = (sampleIndex: number, amplitudeMv: number, detectedAtSample: number, searchBack: boolean) => void;

/** A peak of the integrated signal, waiting for (or after) its decision. */
interface Candidate {
  /** Sample index of the integrated-signal maximum. */
  peakAt: number;
  /** R-peak location (input extremum), sample index. */
  rIndex: number;
  /** Input value at rIndex, mV. */
  amplitudeMv: number;
  /** Integrated-signal peak height. */
  height: number;
  /** Max |derivative| in the integration window. */
  slope: number;
  /** Sample index at which the peak finder reported it. */
  foundAt: number;
}

/** P&T's pass band, Hz: where most QRS energy lies (their 5-11 Hz at 200 Hz; 5-15 Hz is the common modern reading). */
const PT_BAND_HZ = [5, 15] as const;
const RR_HISTORY = 8; // P&T: RR AVERAGE1 is the mean of the 8 most recent RR intervals
const MAX_PENDING = 64; // noise peaks kept for search-back; at most ~1.66 RR of them matter
// Slots of PanTompkinsDetector.v: the last valid input, filtered x[n-1..n-4], the integration sum, the last integrated
// value, the maximum being tracked, and the height of a peak just reported.
const HELD = 0, F1 = 1, F2 = 2, F3 = 3, F4 = 4, MWI_SUM = 5, LAST_M = 6, MAX_M = 7, PEAK_HEIGHT = 8, V_SIZE = 9;

export class PanTompkinsDetector {
  private readonly p: PanTompkinsParams;
  private readonly fsHz: number;
  private readonly onPeak: PeakCallback;
  private readonly filter: BiquadCascade;
  // Ring buffers of the input (held) and of the derivative, power-of-two sized.
  private readonly mask: number;
  private readonly xRing: Float64Array;
  private readonly dRing: Float64Array;
  // Sample-rate dependent lengths, samples.
  private readonly w: number; // integration window
  private readonly refractory: number;
  private readonly tWave: number;
  private readonly peakHold: number;
  private readonly learning: number;
  private readonly compete: number;
  private readonly delay: number; // samples from an input sample to its effect on the integrated signal

  // Per-sample state.
  private n = 0; // index of the next sample (during an event: of the event's sample)
  /** Floating-point per-sample state, indexed by HELD ... PEAK_HEIGHT. */
  private readonly v = new Float64Array(V_SIZE);
  private maxAt = 0;
  private sinceMax = 0;
  /** Set by scan when the peak finder reports a peak: height v[PEAK_HEIGHT], at peakAt. */
  private peakFound = false;
  private peakAt = 0;

  // Decision state.
  private learningDone = false;
  private readonly learned: Candidate[] = [];
  private spki = 0;
  private npki = 0;
  private lastR = -1; // rIndex of the last QRS, -1 before any
  private qrsSlope = 0; // running level of the QRS max slopes
  private readonly rr = new Float64Array(RR_HISTORY);
  private rrCount = 0;
  private rrSum = 0;
  private readonly pending: Candidate[] = [];
  private lastDecayAt = 0;
  /** A peak above threshold whose slope is well under the QRS slope level, held for a stronger neighbour. */
  private tentative: Candidate | undefined;
  /** Next sample at which the clock-driven logic (end of learning, search-back) must run. */
  private tickAt = 0;

  constructor(fsHz: number, params: PanTompkinsParams, startSample: number, onPeak: PeakCallback) {
    this.fsHz = fsHz;
    this.n = startSample;
    this.p = params;
    this.onPeak = onPeak;
    const design = butterworthBand(fsHz, PT_BAND_HZ[0], PT_BAND_HZ[1], 2);
    this.filter = new BiquadCascade(design);
    if (this.filter.sections !== 2) throw new Error(`panTompkins1985: expected a 2-section 5-15 Hz band-pass, got ${this.filter.sections}`);
    // The integrated signal at n sums the squared slopes of input samples [n - delay - w + 1, n - delay]: the band-pass
    // group delay at the band centre plus the derivative's 2 samples.
    this.delay = Math.round(groupDelaySamples(design, fsHz, (PT_BAND_HZ[0] + PT_BAND_HZ[1]) / 2) + 2);
    const ms = (v: number): number => Math.max(1, Math.round((v * fsHz) / 1000));
    this.w = ms(params.integrationMs);
    this.refractory = ms(params.refractoryMs);
    this.tWave = ms(params.tWaveMs);
    this.peakHold = ms(params.peakHoldMs);
    this.learning = ms(params.learningMs);
    this.compete = ms(params.competeMs);
    this.tickAt = startSample + this.learning;
    this.lastDecayAt = startSample;
    // History: a peak collected during learning is located when learning ends, up to learning + delay + w samples
    // back; live peaks need peakHold + delay + w. Power of two, so positions wrap with a mask.
    let size = 1;
    while (size < this.learning + this.peakHold + this.delay + 2 * this.w + 16) size <<= 1;
    this.mask = size - 1;
    this.xRing = new Float64Array(size);
    this.dRing = new Float64Array(size);
  }

  /** Index of the next sample the detector expects. */
  get nextSample(): number {
    return this.n;
  }

  /** Feeds samples `x` (mV, NaN = missing) that follow the previous ones. */
  process(x: Float32Array): void {
    const len = x.length;
    let from = 0;
    if (!this.filter.started) {
      // Until the first valid sample the 5-15 Hz filter has no input; it then starts in that sample's steady state.
      // (Before it, scan feeds the zero state with the zero held value: the state stays zero and is overwritten here.)
      while (from < len && x[from] !== x[from]) from++;
      this.run(x, 0, from);
      if (from === len) return;
      this.filter.settle(x[from]!);
    }
    this.run(x, from, len);
  }

  /**
   * `scan` runs the per-sample steps until an event (a peak reported, or the clock reaching tickAt); the events,
   * a few per second, are handled here, at the sample where they occurred, and the scan resumes after it.
   */
  private run(x: Float32Array, from: number, end: number): void {
    for (let i = this.scan(x, from, end); i < end; i = this.scan(x, i + 1, end)) {
      const now = this.n; // the event's sample
      if (this.peakFound) {
        this.peakFound = false;
        this.candidate(this.v[PEAK_HEIGHT]!, this.peakAt, now);
      }
      if (now >= this.tickAt) this.tick(now);
      this.n = now + 1;
    }
  }

  /**
   * Steps 1-5 on `x[from..end)`, one loop with everything in locals: the 5-15 Hz cascade (two sections, computed exactly
   * as BiquadCascade.run computes them, so the filtered values are bit-identical to a separate pass), the
   * derivative, squaring, integration and the peak finder. No intermediate array, and the filter's serial recurrence
   * overlaps with the rest of the per-sample work. The loop calls nothing: it stops at the first sample with an event
   * (`peakFound` set, or the sample index at `tickAt`) and returns that sample's position in `x`, with `n` at its
   * index; else it returns `end` with `n` at the next sample. The floating-point state lives in a Float64Array,
   * so its representation never changes under the compiled loop.
   */
  private scan(x: Float32Array, from: number, end: number): number {
    const flt = this.filter;
    const c = flt.coeffs, fs = flt.state, v = this.v;
    const b0 = c[0]!, b1 = c[1]!, b2 = c[2]!, a1 = c[3]!, a2 = c[4]!; // high-pass section
    const e0 = c[5]!, e1 = c[6]!, e2 = c[7]!, g1 = c[8]!, g2 = c[9]!; // low-pass section
    let s1 = fs[0]!, s2 = fs[1]!, t1 = fs[2]!, t2 = fs[3]!;
    const mask = this.mask, xRing = this.xRing, dRing = this.dRing, w = this.w;
    const invW = 1 / w;
    const peakHold = this.peakHold, tickAt = this.tickAt;
    let held = v[HELD]!, f1 = v[F1]!, f2 = v[F2]!, f3 = v[F3]!, f4 = v[F4]!;
    let mwiSum = v[MWI_SUM]!, lastM = v[LAST_M]!, maxM = v[MAX_M]!;
    let n = this.n, maxAt = this.maxAt, sinceMax = this.sinceMax;
    // candidate()'s first rule, applied here while it can hold (learning over, no peak held): a peak that is a small
    // ripple (at most searchBackFraction x the threshold) only updates NPKI, so the loop goes on without an event.
    // Most of the peak finder's peaks are such ripples. Same expressions as candidate() and windowStart().
    const ripples = this.learningDone && this.tentative === undefined;
    const spki = this.spki, searchBackFraction = this.p.searchBackFraction, thresholdFraction = this.p.thresholdFraction;
    const delay = this.delay, lastR = this.lastR, refractoryEnd = this.lastR + this.refractory;
    let npki = this.npki;
    // Ring positions of the newest sample and of the one leaving the integration window, advanced by one per sample
    // (cheaper than masking the absolute index twice).
    let slot = n & mask;
    let leaving = (n - w) & mask;
    let i = from;
    for (; i < end; i++, n++) {
      let xi = x[i]!;
      const missing = xi !== xi;
      if (missing) xi = held; // missing sample: the filter is fed the last valid one (sample-and-hold)
      else held = xi;
      const y = b0 * xi + s1;
      s1 = b1 * xi - a1 * y + s2;
      s2 = b2 * xi - a2 * y;
      const z = e0 * y + t1;
      t1 = e1 * y - g1 * z + t2;
      t2 = e2 * y - g2 * z;
      // A missing sample continues the derivative as if the signal were flat.
      const fi = missing ? f1 : z;
      const d = 2 * fi + f1 - f3 - 2 * f4;
      f4 = f3; f3 = f2; f2 = f1; f1 = fi;
      const sq = d * d;
      const gone = dRing[leaving]!; // the derivative leaving the window; its square is what was added then
      mwiSum += sq - gone * gone;
      dRing[slot] = d;
      xRing[slot] = xi;
      slot = (slot + 1) & mask;
      leaving = (leaving + 1) & mask;
      const m = mwiSum * invW;
      const prevM = lastM;
      lastM = m;
      // Peak finder (Hamilton & Tompkins 1986): rise to a maximum, report on fall to half or after peakHold.
      // While a maximum is tracked, lastM <= maxM, so "m > maxM" alone means a new maximum; splitting the two states
      // keeps the branches predictable.
      if (sinceMax > 0) {
        sinceMax++;
        if (m > maxM) {
          maxM = m;
          maxAt = n;
          sinceMax = 1;
        } else if (m < 0.5 * maxM || sinceMax > peakHold) {
          if (ripples && maxM <= searchBackFraction * (npki + thresholdFraction * (spki - npki))) {
            const from = maxAt - delay - w;
            // Inside the refractory period a ripple does not count at all.
            if ((lastR >= 0 && from < refractoryEnd ? refractoryEnd : from) <= maxAt - delay) npki = 0.125 * maxM + 0.875 * npki;
            maxM = 0;
            sinceMax = 0;
            if (n >= tickAt) break;
            continue;
          }
          v[PEAK_HEIGHT] = maxM;
          this.peakAt = maxAt;
          this.peakFound = true;
          maxM = 0;
          sinceMax = 0;
          break;
        }
      } else if (m > prevM && m > maxM) {
        maxM = m;
        maxAt = n;
        sinceMax = 1;
      }
      if (n >= tickAt) break;
    }
    fs[0] = s1; fs[1] = s2; fs[2] = t1; fs[3] = t2;
    flt.held = held;
    v[HELD] = held; v[F1] = f1; v[F2] = f2; v[F3] = f3; v[F4] = f4;
    v[MWI_SUM] = mwiSum; v[LAST_M] = lastM; v[MAX_M] = maxM;
    this.npki = npki;
    this.n = n;
    this.maxAt = maxAt;
    this.sinceMax = sinceMax;
    return i;
  }

  /**
   * End of stream: decides what is still waiting (peaks of a stream shorter than the learning phase, a held peak).
   * Peaks that only a later sample could have completed are not reported.
   */
  finish(): void {
    const next = this.n;
    this.n = next - 1; // decisions now are made at the newest sample seen
    if (!this.learningDone) this.endLearning(this.n);
    this.flushTentative(Number.POSITIVE_INFINITY);
    this.n = next;
  }

  /** Mean of the recent RR intervals, samples; 1 s before the first interval. */
  private rrMean(): number {
    return this.rrCount === 0 ? this.fsHz : this.rrSum / Math.min(this.rrCount, RR_HISTORY);
  }

  private searchBackLimit(): number {
    return this.p.searchBackRr * this.rrMean();
  }

  private threshold(): number {
    return this.npki + this.p.thresholdFraction * (this.spki - this.npki);
  }

  /** A peak of the integrated signal at `peakAt`, reported at sample `foundAt`. */
  private candidate(height: number, peakAt: number, foundAt: number): void {
    if (this.learningDone && this.tentative === undefined && height <= this.p.searchBackFraction * this.threshold()) {
      // Most peaks are small ripples that can only be noise and are too small to be kept for search-back: their
      // R-peak and slope would never be looked at, so neither the object nor the scan is made (same decisions as
      // decide(), at a fraction of the per-peak cost). Inside the refractory period they do not count at all.
      if (this.windowStart(peakAt) <= peakAt - this.delay) this.npki = 0.125 * height + 0.875 * this.npki;
      return;
    }
    const c: Candidate = { peakAt, rIndex: -1, amplitudeMv: Number.NaN, height, slope: Number.NaN, foundAt }; // NaN: not located yet
    if (!this.learningDone) {
      this.learned.push(c); // decided at the end of learning; the ring buffers still hold its samples then
      return;
    }
    this.decide(c);
  }

  /**
   * Finds the R-peak of a candidate: the input extremum (largest |x|) among the input samples whose slopes the
   * integrated peak summed (the integration window moved back by the band-pass group delay at 10 Hz plus the
   * derivative's 2 samples: 13 samples at 360 Hz), and the max slope over the same samples. The window starts no
   * earlier than the end of the last QRS's refractory period, so a second hump of the integrated signal (wide QRS,
   * tall T wave) is judged on its own samples, not on the QRS already detected.
   * Returns false when nothing of the window lies outside the refractory period.
   */
  private locate(c: Candidate): boolean {
    const from = this.windowStart(c.peakAt);
    const to = c.peakAt - this.delay;
    if (from > to) return false;
    let best = from, bestAbs = -1, slope = 0;
    const slopeShift = this.delay;
    for (let k = from; k <= to; k++) {
      const v = this.xRing[k & this.mask]!;
      const a = v < 0 ? -v : v;
      if (a > bestAbs) { bestAbs = a; best = k; }
      const d = this.dRing[(k + slopeShift) & this.mask]!; // the derivative lags the input by the filter delay
      const ad = d < 0 ? -d : d;
      if (ad > slope) slope = ad;
    }
    c.rIndex = best;
    c.amplitudeMv = this.xRing[best & this.mask]!;
    c.slope = slope;
    return true;
  }


  /** First input sample of a candidate's window: the integration window's start, or the end of the refractory period. */
  private windowStart(peakAt: number): number {
    // Input samples whose slopes the integrated peak summed: [peakAt - delay - w + 1, peakAt - delay].
    const from = peakAt - this.delay - this.w;
    return this.lastR >= 0 && from < this.lastR + this.refractory ? this.lastR + this.refractory : from;
  }

  /** End of learning: initialise the levels and decide the collected peaks as if they had come live. */
  private endLearning(now: number): void {
    this.learningDone = true;
    let maxH = 0, sumH = 0;
    for (const c of this.learned) { if (c.height > maxH) maxH = c.height; sumH += c.height; }
    // Initial levels: the tallest peak stands for a QRS, the mean peak for noise (P&T initialise from the
    // maximum and mean of the integrated signal during learning).
    this.spki = 0.5 * maxH;
    this.npki = this.learned.length > 0 ? 0.5 * (sumH / this.learned.length) : 0;
    this.lastDecayAt = now - this.learning;
    const learned = this.learned.splice(0);
    for (const c of learned) {
      this.flushTentative(c.foundAt);
      this.searchBack(c.foundAt);
      this.decide(c);
    }
    this.flushTentative(now);
  }

  private decide(c: Candidate): void {
    if (!this.locate(c)) return; // refractory: not even a noise peak
    const th = this.threshold();
    const t = this.tentative;
    if (t !== undefined) {
      if (c.rIndex - t.rIndex < this.compete) {
        // Two QRS-like peaks too close for both to be beats: keep the stronger one (a tall P wave before its QRS).
        // The loser is noise, and no search-back beat either: it belongs to the winner's complex.
        if (c.height > t.height && c.slope > t.slope && c.height > th) {
          this.noise(t, 0);
          this.tentative = undefined;
          this.consider(c);
        } else this.noise(c, 0);
        return;
      }
      this.tentative = undefined;
      this.accept(t, false);
      if (!this.locate(c)) return;
    }
    if (c.height > th && !this.isTWave(c)) {
      this.consider(c);
      return;
    }
    this.noise(c, th);
  }

  /** A peak above threshold: a QRS now if its slope is like the last QRS's, else held until no stronger peak follows. */
  private consider(c: Candidate): void {
    if (c.slope >= this.p.confidentSlopeRatio * this.qrsSlope) {
      this.accept(c, false);
      return;
    }
    this.tentative = c;
    this.scheduleTick();
  }

  /** A noise peak; kept for search-back if above half the threshold `th` (0: never). (candidate() inlines the NPKI update.) */
  private noise(c: Candidate, th: number): void {
    this.npki = 0.125 * c.height + 0.875 * this.npki;
    if (th > 0 && c.height > this.p.searchBackFraction * th) {
      if (this.pending.length >= MAX_PENDING) this.pending.shift();
      this.pending.push(c);
    }
  }

  private isTWave(c: Candidate): boolean {
    return this.lastR >= 0 && c.rIndex - this.lastR < this.tWave && c.slope < this.p.tWaveSlopeRatio * this.qrsSlope;
  }

  private accept(c: Candidate, searchBack: boolean): void {
    if (searchBack) this.spki = 0.25 * c.height + 0.75 * this.spki;
    else this.spki = 0.125 * c.height + 0.875 * this.spki;
    if (this.lastR >= 0) {
      const rr = c.rIndex - this.lastR;
      const slot = this.rrCount % RR_HISTORY;
      this.rrSum += rr - (this.rrCount >= RR_HISTORY ? this.rr[slot]! : 0);
      this.rr[slot] = rr;
      this.rrCount++;
    }
    this.lastR = c.rIndex;
    // Running QRS slope level, updated like SPKI (weight 1/8): one unusually flat beat does not open the T-wave
    // test to every T wave after it.
    this.qrsSlope = this.qrsSlope === 0 ? c.slope : 0.125 * c.slope + 0.875 * this.qrsSlope;
    // Noise peaks before this QRS or in its refractory period can no longer be search-back beats.
    let keep = 0;
    for (const q of this.pending) if (q.rIndex - c.rIndex >= this.refractory) this.pending[keep++] = q;
    this.pending.length = keep;
    const detectedAt = Math.max(c.foundAt, this.n);
    this.onPeak(c.rIndex, c.amplitudeMv, detectedAt, searchBack);
    if (this.learningDone) this.scheduleTick();
  }

  /** Clock-driven logic, run when the sample index reaches `tickAt`. */
  private tick(now: number): void {
    if (!this.learningDone) this.endLearning(now);
    this.flushTentative(now);
    this.searchBack(now);
    this.scheduleTick();
  }

  private scheduleTick(): void {
    const since = Math.max(this.lastR, this.lastDecayAt);
    this.tickAt = Math.floor(since + this.searchBackLimit()) + 1;
    // A held peak is decided once no peak within `compete` of it can still be reported.
    if (this.tentative !== undefined) this.tickAt = Math.min(this.tickAt, this.tentativeDeadline(this.tentative));
  }

  private tentativeDeadline(t: Candidate): number {
    return t.rIndex + this.compete + this.delay + this.w + this.peakHold + 1;
  }

  private flushTentative(now: number): void {
    const t = this.tentative;
    if (t !== undefined && now >= this.tentativeDeadline(t)) {
      this.tentative = undefined;
      this.accept(t, false);
    }
  }

  /** Search-back: no QRS for searchBackRr mean RR intervals since the last one (or since the last decay). */
  private searchBack(now: number): void {
    if (this.tentative !== undefined) return;
    for (;;) {
      const since = Math.max(this.lastR, this.lastDecayAt);
      if (now - since <= this.searchBackLimit()) return;
      const th2 = this.p.searchBackFraction * this.threshold();
      let best: Candidate | undefined;
      for (const q of this.pending) {
        if (q.height <= th2 || q.foundAt > now) continue;
        if (this.lastR >= 0 && (q.rIndex - this.lastR < this.refractory || this.isTWave(q))) continue;
        if (best === undefined || q.height > best.height) best = q;
      }
      if (best === undefined) {
        // Nothing to recover: let the levels decay so a weaker signal can be found again (a lead that went
        // small or a stream that resumed after a flat stretch), once per search-back interval.
        this.spki *= 0.5;
        this.npki *= 0.5;
        this.lastDecayAt = now;
        return;
      }
      this.accept(best, true);
    }
  }
}
