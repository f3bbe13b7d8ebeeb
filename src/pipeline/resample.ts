import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, StreamError } from '../errors.js';
import type { SampleChunk } from '../types.js';

export interface ResampleOptions {
  /** Output sampling rate, Hz. Default 360, the MIT-BIH rate the detector's and classifier's defaults assume. */
  toHz?: number;
}

/**
 * Resamples every lead of a stream to `toHz` by cubic (Catmull-Rom) interpolation, for front-ends at 250, 500 Hz and
 * other rates. Output sample `k` (at `toHz`) is the interpolation at input position `k * fsHz / toHz`, computed from
 * `k` alone, so the output is bit-identical however the input is chunked; output `startSample` indices count at the
 * new rate (`Math.ceil(startSample * toHz / fsHz)` for the first chunk).
 *
 * Why cubic and not polyphase FIR: ECG after the monitor band-pass (<= 40 Hz) is oversampled 3-6x at 250-500 Hz, where
 * Catmull-Rom's error is far below the ADC step, at 4 multiply-adds per output sample and 3 samples of delay. Place
 * `bandpass()` before `resample()` when down-sampling (500 -> 360 Hz), so nothing above the new Nyquist frequency is left
 * to alias.
 *
 * State: the last 3 input samples of each lead, per subscription. The output lags the input by 2 input samples
 * (an output needs its two right neighbours); on complete the remaining outputs are flushed with the last sample
 * repeated as right neighbour, so no sample is lost at the end. At the start the first sample stands in for its
 * missing left neighbour. NaN input makes the up to 4 outputs that use it NaN, nothing more (no recursion).
 * A gap (chunk starting after the expected sample) restarts the interpolation at the new chunk; a chunk going
 * backwards or changing `fsHz` is a StreamError ECG_ERR_STREAM. A stream already at `toHz` passes through untouched.
 *
 * ## Example
 * ```ts
 * recordSource(dir, 'rec250').pipe(bandpass(), resample({ toHz: 360 }), detectRPeaks()); // a 250 Hz record
 * ```
 * @param options.toHz output rate, Hz, default 360
 * @see bandpass
 *
 * References: Catmull E, Rom R. A class of local interpolating splines. In: Computer Aided Geometric Design,
 * Academic Press 1974:317-326. doi:10.1016/B978-0-12-079050-0.50020-5; Keys R. Cubic convolution interpolation for
 * digital image processing. IEEE Trans ASSP 1981;29(6):1153-1160. doi:10.1109/TASSP.1981.1163711
 */
export function resample({ toHz = 360 }: ResampleOptions = {}): OperatorFunction<SampleChunk, SampleChunk> {
  if (!(Number.isFinite(toHz) && toHz > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `resample: toHz=${toHz} must be > 0`);
  return (source) =>
    new Observable<SampleChunk>((subscriber) => {
      let fsHz = 0;
      let next = -1; // expected input startSample of the next chunk
      let leads: LeadResampler[] = [];
      let template: SampleChunk | undefined; // last chunk, for the flush on complete
      const emit = (chunk: SampleChunk, outputs: Float32Array[], startK: number): void => {
        if (outputs[0]!.length === 0) return;
        const out: SampleChunk = { ...chunk, fsHz: toHz, startSample: startK, samples: outputs[0]! };
        if (chunk.auxLeads !== undefined) out.auxLeads = chunk.auxLeads.map((a, i) => ({ lead: a.lead, samples: outputs[i + 1]! }));
        subscriber.next(out);
      };
      return source.subscribe({
        next: (chunk) => {
          try {
            const where = { streamId: chunk.streamId, sampleIndex: chunk.startSample };
            if (fsHz === 0) fsHz = chunk.fsHz;
            else if (chunk.fsHz !== fsHz) return subscriber.error(new StreamError('ECG_ERR_STREAM', `resample: sampling rate changed from ${fsHz} to ${chunk.fsHz} Hz`, where));
            if (next >= 0 && chunk.startSample < next) return subscriber.error(new StreamError('ECG_ERR_STREAM', `resample: chunk starts at ${chunk.startSample}, expected ${next} or later`, where));
            if (fsHz === toHz) {
              next = chunk.startSample + chunk.samples.length;
              return subscriber.next(chunk);
            }
            const count = 1 + (chunk.auxLeads?.length ?? 0);
            if (leads.length !== count || chunk.startSample > next) {
              if (template !== undefined && leads.length > 0) {
                const startK = leads[0]!.nextK;
                emit(template, leads.map((l) => l.flush()), startK); // outputs before the gap
              }
              leads = Array.from({ length: count }, () => new LeadResampler(fsHz, toHz, chunk.startSample));
            }
            next = chunk.startSample + chunk.samples.length;
            template = chunk;
            const startK = leads[0]!.nextK;
            const outputs = [leads[0]!.push(chunk.samples), ...(chunk.auxLeads ?? []).map((a, i) => leads[i + 1]!.push(a.samples))];
            emit(chunk, outputs, startK);
          } catch (error) {
            // A fault in this stage (a malformed chunk, a bug) ends the stream on the error channel, not as an uncaught
            // exception (RxJS reports throws from a next handler as unhandled).
            subscriber.error(error);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          try {
            if (template !== undefined && leads.length > 0) {
              const startK = leads[0]!.nextK;
              emit(template, leads.map((l) => l.flush()), startK);
            }
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.complete();
        },
      });
    });
}

/** Catmull-Rom interpolation of one lead; state: the last input samples and the next output index. */
class LeadResampler {
  /** Next output index (at toHz). */
  nextK: number;
  private readonly fsHz: number;
  private readonly toHz: number;
  /** Input samples kept from earlier chunks, and the input index of tail[0]. */
  private tail = new Float64Array(0);
  private tailStart: number;
  private buf = new Float64Array(0);

  constructor(fsHz: number, toHz: number, startSample: number) {
    this.fsHz = fsHz;
    this.toHz = toHz;
    this.nextK = Math.ceil((startSample * toHz) / fsHz);
    this.tailStart = startSample;
  }

  /** Input position of output k, split into integer index and fraction (from k alone: chunk-invariant). */
  private position(k: number): [number, number] {
    const num = k * this.fsHz; // exact for integer rates and k < 2^53 / fsHz
    const i = Math.floor(num / this.toHz);
    return [i, (num - i * this.toHz) / this.toHz];
  }

  push(samples: Float32Array): Float32Array {
    // Working buffer: kept tail followed by the new samples.
    const len = this.tail.length + samples.length;
    if (this.buf.length < len) this.buf = new Float64Array(Math.max(len, 2 * this.buf.length));
    const b = this.buf;
    b.set(this.tail, 0);
    for (let j = 0; j < samples.length; j++) b[this.tail.length + j] = samples[j]!;
    return this.interpolate(len, false);
  }

  flush(): Float32Array {
    const len = this.tail.length;
    if (this.buf.length < len) this.buf = new Float64Array(len);
    this.buf.set(this.tail, 0);
    return this.interpolate(len, true);
  }

  /** Interpolates every output whose neighbours are in buf[0..len) (or, when flushing, up to the last sample). */
  private interpolate(len: number, flushing: boolean): Float32Array {
    const b = this.buf;
    const s0 = this.tailStart; // input index of b[0]
    const last = s0 + len - 1; // input index of the last sample available
    const first = this.streamFirst ??= s0;
    // How many outputs: k up to the last whose right neighbours are available.
    const lastUsable = flushing ? last : last - 2;
    let kEnd = Math.max(this.nextK, Math.ceil(((lastUsable + 1) * this.toHz) / this.fsHz));
    // Settle rounding either way against position(), the single definition of where output k lies.
    while (kEnd > this.nextK && this.position(kEnd - 1)[0] > lastUsable) kEnd--;
    while (this.position(kEnd)[0] <= lastUsable) kEnd++;
    const out = new Float32Array(kEnd - this.nextK);
    for (let o = 0; o < out.length; o++) {
      const [i, t] = this.position(this.nextK + o);
      // Neighbours clamped to the stream's first sample and (when flushing) the last one.
      const i0 = (i - 1 < first ? first : i - 1) - s0;
      const i2 = (i + 1 > last ? last : i + 1) - s0;
      const i3 = (i + 2 > last ? last : i + 2) - s0;
      const p0 = b[i0]!, p1 = b[i - s0]!, p2 = b[i2]!, p3 = b[i3]!;
      // Catmull-Rom: p1 + t/2 (p2 - p0 + t (2p0 - 5p1 + 4p2 - p3 + t (3(p1 - p2) + p3 - p0)))
      out[o] = p1 + 0.5 * t * (p2 - p0 + t * (2 * p0 - 5 * p1 + 4 * p2 - p3 + t * (3 * (p1 - p2) + p3 - p0)));
    }
    this.nextK = kEnd;
    // Keep from the left neighbour of the next output on (at most 3 samples plus what is not yet used).
    const [iNext] = this.position(this.nextK);
    const keepFrom = Math.max(s0, Math.min(last + 1, iNext - 1));
    this.tail = b.slice(keepFrom - s0, len);
    this.tailStart = keepFrom;
    return out;
  }

  private streamFirst: number | undefined;
}
