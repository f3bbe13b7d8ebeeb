import { PanTompkinsDetector, type PanTompkinsParams } from './panTompkins1985.js';

/**
 * Internal engine of `detectRPeaks({ leadFallback: true })`: Pan-Tompkins on the primary lead and on the first
 * auxiliary lead at once; the auxiliary lead's beats fill in where the primary lead is flat and misses them.
 *
 * Quality is judged per one-second block, aligned on absolute sample indices (so it does not depend on chunking): a
 * lead is flat in a block when fewer than half of its samples are valid, or when its peak-to-peak range is under
 * `FLAT_RATIO` (0.1) of its running typical range (a moving average over blocks, weight 1/8, like P&T's levels). A
 * lead whose QRS shrinks tenfold (electrode contact lost, as for seconds on MIT-BIH 116's first lead) is flat in this
 * sense while its detector's thresholds still expect the old amplitude; both leads flat is a pause (the 6 s pauses
 * of MIT-BIH 232), not a lead problem, and takes nothing from the auxiliary lead.
 *
 * Routing (auxiliary peaks are decided at fixed points every 100 ms of samples, again on absolute indices):
 *  - primary-lead peaks are emitted as the primary detector reports them (the normal case keeps its latency);
 *  - an auxiliary-lead peak waits until its block is finished and 0.5 s have passed (time for the primary detector
 *    to report the same beat), and is emitted when in that block the primary lead was flat and the auxiliary lead
 *    was not, and no primary-lead peak lies within a refractory period of it;
 *  - emitted peaks are in increasing sample order, at least one refractory period apart (an auxiliary peak older
 *    than the last emitted peak is dropped, which can lose one beat where the primary lead comes back).
 *
 * Measured on MIT-BIH (first lead primary, second lead auxiliary): tests/pipeline/signalPipeline.mitdb.test.ts.
 */
export type FallbackPeakCallback = (sampleIndex: number, amplitudeMv: number, detectedAtSample: number, searchBack: boolean, lead: string) => void;

/** Peak-to-peak range of one lead per block, over the last WINDOW_BLOCKS blocks, against its running typical value. */
class LeadQuality {
  private min = Number.POSITIVE_INFINITY;
  private max = Number.NEGATIVE_INFINITY;
  private valid = 0;
  private typical = 0;
  private readonly recent = new Float64Array(WINDOW_BLOCKS);

  add(x: Float32Array): void {
    let lo = this.min, hi = this.max, valid = this.valid;
    for (let k = 0; k < x.length; k++) {
      const v = x[k]!;
      if (v !== v) continue;
      valid++;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    this.min = lo;
    this.max = hi;
    this.valid = valid;
  }

  /** Ends block `index` of `size` samples; true when the lead is flat or missing. */
  endBlock(index: number, size: number): boolean {
    const blockRange = this.valid >= size / 2 ? this.max - this.min : 0;
    this.recent[index % WINDOW_BLOCKS] = blockRange;
    const range = blockRange === 0 ? 0 : Math.max(...this.recent);
    const flat = range === 0 || (this.typical > 0 && range < FLAT_RATIO * this.typical);
    this.typical = this.typical === 0 ? range : this.typical + (range - this.typical) / 8;
    this.min = Number.POSITIVE_INFINITY;
    this.max = Number.NEGATIVE_INFINITY;
    this.valid = 0;
    return flat;
  }
}

interface QueuedPeak {
  sampleIndex: number;
  amplitudeMv: number;
  searchBack: boolean;
  lead: string;
}

/** A primary block is flat when its range is under this fraction of the typical range. */
const FLAT_RATIO = 0.1;
/** Blocks (seconds) over which the range is taken: longer than any RR interval of a beating heart (> 20 bpm). */
const WINDOW_BLOCKS = 1;
/** Primary-lead peaks remembered for the "did the primary lead see this beat" test. */
const RECENT_PRIMARY = 16;
/** Block flags kept for late (search-back) auxiliary peaks: 8 s at one block per second. */
const FLAG_HISTORY = 8;

export class LeadFallbackDetector {
  private readonly primary: PanTompkinsDetector;
  private readonly aux: PanTompkinsDetector;
  private readonly emit: FallbackPeakCallback;
  private readonly releaseEvery: number; // samples between routing decisions
  private readonly block: number; // samples per quality block (a multiple of releaseEvery)
  private readonly refractory: number;
  private n: number;
  private readonly auxQueue: QueuedPeak[] = [];
  private readonly primaryQuality = new LeadQuality();
  private readonly auxQuality = new LeadQuality();
  /** Sample indices of the latest primary-lead peaks (ring), to tell whether the primary lead saw a beat. */
  private readonly recentPrimary = new Float64Array(RECENT_PRIMARY);
  private primaryCount = 0;
  private readonly primaryWait: number;
  private readonly badFlags = new Uint8Array(FLAG_HISTORY);
  private lastEmitted = Number.NEGATIVE_INFINITY;

  constructor(fsHz: number, params: PanTompkinsParams, startSample: number, primaryLead: string, auxLead: string, emit: FallbackPeakCallback) {
    this.emit = emit;
    this.n = startSample;
    this.releaseEvery = Math.max(1, Math.round(fsHz / 10));
    this.block = 10 * this.releaseEvery;
    this.refractory = Math.max(1, Math.round((params.refractoryMs * fsHz) / 1000));
    this.primaryWait = Math.round(fsHz / 2);
    // Primary-lead peaks go out at once (the normal case keeps its latency); they are remembered for the
    // "did the primary lead see this beat" test.
    this.primary = new PanTompkinsDetector(fsHz, params, startSample, (sampleIndex, amplitudeMv, detectedAt, searchBack) => {
      this.recentPrimary[this.primaryCount++ % RECENT_PRIMARY] = sampleIndex;
      this.send(sampleIndex, amplitudeMv, detectedAt, searchBack, primaryLead);
    });
    this.aux = new PanTompkinsDetector(fsHz, params, startSample, (sampleIndex, amplitudeMv, _at, searchBack) =>
      this.auxQueue.push({ sampleIndex, amplitudeMv, searchBack, lead: auxLead }),
    );
  }

  get nextSample(): number {
    return this.n;
  }

  /** Feeds time-aligned samples of the primary and the auxiliary lead (same length). */
  process(x: Float32Array, auxSamples: Float32Array): void {
    for (let i = 0; i < x.length; ) {
      // Segments end at the routing points, so decisions happen at the same samples whatever the chunking.
      const boundary = (Math.floor(this.n / this.releaseEvery) + 1) * this.releaseEvery;
      const m = Math.min(x.length - i, boundary - this.n);
      const xs = x.subarray(i, i + m);
      const as = auxSamples.subarray(i, i + m);
      this.primary.process(xs);
      this.aux.process(as);
      this.primaryQuality.add(xs);
      this.auxQuality.add(as);
      this.n += m;
      i += m;
      if (this.n % this.releaseEvery === 0) this.route(this.n % this.block === 0);
    }
  }

  /** End of stream: decides what both detectors still hold and releases everything by the last known quality. */
  finish(): void {
    this.primary.finish();
    this.aux.finish();
    this.route(true);
  }

  private blockIndex(sample: number): number {
    return Math.floor(sample / this.block);
  }

  private route(blockDone: boolean): void {
    if (blockDone) {
      const index = this.blockIndex(this.n - 1);
      const primaryFlat = this.primaryQuality.endBlock(index, this.block);
      const auxFlat = this.auxQuality.endBlock(index, this.block);
      // Both flat is a pause (or no signal at all), not a lead problem: nothing to take from the auxiliary lead.
      this.badFlags[index % FLAG_HISTORY] = primaryFlat && !auxFlat ? 1 : 0;
    }
    const out: QueuedPeak[] = [];
    // Auxiliary peaks are decided once their block is finished and the primary detector has had time to report the
    // same beat: taken when that block of the primary lead was flat and the primary lead has no beat there.
    const finishedBefore = this.blockIndex(this.n - 1) + (blockDone ? 1 : 0);
    let keep = 0;
    for (const p of this.auxQueue) {
      const b = this.blockIndex(p.sampleIndex);
      if (b >= finishedBefore || this.n - 1 - p.sampleIndex < this.primaryWait) {
        this.auxQueue[keep++] = p;
        continue;
      }
      if (finishedBefore - b > FLAG_HISTORY || this.badFlags[b % FLAG_HISTORY] !== 1) continue;
      let seen = false;
      for (let k = 0; k < Math.min(this.primaryCount, RECENT_PRIMARY); k++) {
        if (Math.abs(this.recentPrimary[k]! - p.sampleIndex) < this.refractory) seen = true;
      }
      if (!seen) out.push(p);
    }
    this.auxQueue.length = keep;
    out.sort((x, y) => x.sampleIndex - y.sampleIndex);
    for (const p of out) this.send(p.sampleIndex, p.amplitudeMv, this.n - 1, p.searchBack, p.lead); // n - 1: the newest sample seen
  }

  /** Emits a peak unless it would break the order or fall within a refractory period of the last one. */
  private send(sampleIndex: number, amplitudeMv: number, detectedAt: number, searchBack: boolean, lead: string): void {
    if (sampleIndex < this.lastEmitted + this.refractory) return;
    this.lastEmitted = sampleIndex;
    this.emit(sampleIndex, amplitudeMv, detectedAt, searchBack, lead);
  }
}
