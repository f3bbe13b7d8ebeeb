import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, StreamError } from '../errors.js';
import type { SampleChunk } from '../types.js';
import { BiquadCascade, butterworthBand } from './biquad.js';

export interface BandpassOptions {
  /**
   * High-pass corner, Hz. Default 0.5: removes baseline wander (respiration, electrode motion) while keeping the
   * ST segment's low frequencies as AHA diagnostic-monitoring practice asks (0.5 Hz monitor mode; 0.05 Hz for
   * diagnostic ST work). Pass `null` for no high-pass.
   */
  lowHz?: number | null;
  /**
   * Low-pass corner, Hz. Default 40: removes EMG noise and mains (50/60 Hz) while keeping the QRS, whose energy lies
   * mostly below 40 Hz (monitor bandwidth 0.5-40 Hz). Pass `null` for no low-pass.
   */
  highHz?: number | null;
  /** Butterworth order of each edge, even (fili designs second-order sections). Default 2. */
  order?: number;
}

/**
 * Causal Butterworth band-pass of every lead of a chunk (primary and `auxLeads`), built on fili's cascade design.
 *
 * fili's `CalcCascades` designs the second-order sections; they run in our own float64 Direct-Form-II-transposed
 * loop (biquad.ts) because fili's `IirFilter` costs ~10x more per sample and allocates an array per call, and the
 * pipeline's budget is a few ns per sample. The filter memory is created per subscription and per lead at the
 * first chunk, and carried across chunks: the output is bit-identical however the stream is chunked.
 *
 * - Missing samples (NaN): the filter is fed the last valid sample instead (NaN inside an IIR state would poison
 *   every later output) and the output keeps NaN at those positions, so later stages know the sample is missing.
 * - Start: the filter starts in the steady state of the first valid sample (no multi-second high-pass transient).
 * - Gaps (a chunk starting after the expected sample): the filter restarts at the new chunk, as at a stream start;
 *   a chunk that goes backwards or changes `fsHz` is a StreamError ECG_ERR_STREAM on the error channel.
 *
 * Output `samples` are views into larger slabs (as recordSource's are views into its blocks): use them as arrays,
 * not through `.buffer`.
 *
 * The group delay is that of the Butterworth sections (a few ms in the QRS band); detectRPeaks reports peaks at the
 * extremum of this output.
 *
 * ## Example
 * ```ts
 * recordSource(dir, '100').pipe(bandpass({ lowHz: 0.5, highHz: 40 }));
 * ```
 * @param options.lowHz high-pass corner, Hz, default 0.5
 * @param options.highHz low-pass corner, Hz, default 40
 * @param options.order order per edge, default 2
 * @see detectRPeaks, resample
 *
 * References:
 *  - fili (Florian Markert), IIR cascade design after R. Bristow-Johnson's Audio EQ Cookbook. https://github.com/markert/fili.js
 *  - Kligfield P et al. Recommendations for the standardization and interpretation of the electrocardiogram, part I.
 *    Circulation 2007;115:1306-1324. doi:10.1161/CIRCULATIONAHA.106.180200 (ECG bandwidth)
 */
export function bandpass({ lowHz = 0.5, highHz = 40, order = 2 }: BandpassOptions = {}): OperatorFunction<SampleChunk, SampleChunk> {
  if (lowHz !== null && !(Number.isFinite(lowHz) && lowHz > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `bandpass: lowHz=${lowHz} must be > 0 (or null)`);
  if (highHz !== null && !(Number.isFinite(highHz) && highHz > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `bandpass: highHz=${highHz} must be > 0 (or null)`);
  if (lowHz !== null && highHz !== null && !(lowHz < highHz)) throw new ConfigError('ECG_ERR_BAD_OPTION', `bandpass: lowHz=${lowHz} must be below highHz=${highHz}`);
  if (!(Number.isInteger(order) && order >= 2 && order % 2 === 0 && order <= 24)) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `bandpass: order=${order} must be an even integer in 2..24`);
  }
  return (source) =>
    new Observable<SampleChunk>((subscriber) => {
      let fsHz = 0;
      let next = -1; // expected startSample of the next chunk
      let filters: BiquadCascade[] = []; // [primary, ...auxLeads], created at the first chunk
      let scratch = new Float64Array(0); // float64 work array of cascades longer than two sections
      // Output arrays are views carved from 64 k-sample slabs: one allocation per ~3 min of 360 Hz signal instead of
      // one per chunk. A slab is freed when no chunk viewing it is referenced any more.
      let slab = new Float32Array(0);
      let slabUsed = 0;
      const allocate = (n: number): Float32Array => {
        if (slab.length - slabUsed < n) {
          slab = new Float32Array(Math.max(n, 65_536));
          slabUsed = 0;
        }
        slabUsed += n;
        return slab.subarray(slabUsed - n, slabUsed);
      };
      const filter = (f: BiquadCascade, x: Float32Array): Float32Array => {
        if (f.sections > 2 && scratch.length < x.length) scratch = new Float64Array(x.length);
        const y = allocate(x.length);
        f.runFloat32(x, y, scratch);
        return y;
      };
      return source.subscribe({
        next: (chunk) => {
          try {
            if (fsHz === 0) {
              fsHz = chunk.fsHz;
              if (highHz !== null && !(highHz < fsHz / 2)) {
                subscriber.error(new StreamError('ECG_ERR_STREAM', `bandpass: highHz=${highHz} is not below the Nyquist frequency ${fsHz / 2} Hz`, { streamId: chunk.streamId, sampleIndex: chunk.startSample }));
                return;
              }
            } else if (chunk.fsHz !== fsHz) {
              subscriber.error(new StreamError('ECG_ERR_STREAM', `bandpass: sampling rate changed from ${fsHz} to ${chunk.fsHz} Hz`, { streamId: chunk.streamId, sampleIndex: chunk.startSample }));
              return;
            }
            if (next >= 0 && chunk.startSample < next) {
              subscriber.error(new StreamError('ECG_ERR_STREAM', `bandpass: chunk starts at ${chunk.startSample}, expected ${next} or later`, { streamId: chunk.streamId, sampleIndex: chunk.startSample }));
              return;
            }
            const leads = 1 + (chunk.auxLeads?.length ?? 0);
            if (filters.length !== leads || chunk.startSample > next) {
              // First chunk, a gap, or a change in the set of leads: (re)start every filter.
              const design = butterworthBand(fsHz, lowHz ?? undefined, highHz ?? undefined, order);
              filters = Array.from({ length: leads }, () => new BiquadCascade(design));
            }
            next = chunk.startSample + chunk.samples.length;
            const out: SampleChunk = { ...chunk, samples: filter(filters[0]!, chunk.samples) };
            if (chunk.auxLeads !== undefined) {
              out.auxLeads = chunk.auxLeads.map((aux, i) => ({ lead: aux.lead, samples: filter(filters[i + 1]!, aux.samples) }));
            }
            subscriber.next(out);
          } catch (error) {
            // A fault in this stage (a malformed chunk, a bug) ends the stream on the error channel, not as an uncaught
            // exception (RxJS reports throws from a next handler as unhandled).
            subscriber.error(error);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
