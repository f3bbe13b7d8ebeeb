import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, StreamError } from '../errors.js';
import type { RPeak, SampleChunk } from '../types.js';
import { LeadFallbackDetector } from './leadFallback.js';
import { PAN_TOMPKINS_DEFAULTS, PanTompkinsDetector, type PanTompkinsParams } from './panTompkins1985.js';

export interface DetectRPeaksOptions extends Partial<PanTompkinsParams> {
  /** Detection algorithm. Only `pantompkins1985` (Pan & Tompkins 1985 with Hamilton & Tompkins 1986 peak rules). */
  method?: 'pantompkins1985';
  /**
   * Gaps (a chunk starting after the expected sample) up to this long are bridged as missing samples (the detector
   * holds the last value and keeps its levels); longer gaps restart the detector, learning phase included, ms.
   * Default 2000.
   */
  maxBridgedGapMs?: number;
  /**
   * Also run the detector on the first of the chunk's `auxLeads` and emit its beats while the primary lead is flat or
   * missing (see leadFallback.ts); fallback peaks carry the auxiliary lead's name in `lead`. Without aux leads in the
   * first chunk this option has no effect. Default false.
   */
  leadFallback?: boolean;
}

/** What the operator drives: one detector, or two with lead fallback. */
interface Engine {
  readonly nextSample: number;
  process(x: Float32Array, aux: Float32Array | undefined): void;
  finish(): void;
}

/**
 * Detects R-peaks in a band-passed ECG stream: each {@link RPeak} is the extremum of the input at a QRS complex found
 * by a streaming Pan-Tompkins detector (see panTompkins1985.ts for the steps and constants), with the sample at which
 * it was emitted (`detectedAtSample`) and the latency in samples.
 *
 * All detector memory is per subscription and advances sample by sample, and decisions depend only on sample
 * indices, so the peaks are identical however the input is chunked (property-tested). Per-sample work is a few
 * multiply-adds on typed-array ring buffers; per-peak work (locating the R-peak, the decision rules) is a scan of at
 * most ~0.3 s of samples.
 *
 * Missing samples (NaN) are replaced by the last valid sample (no crash, no poisoned state); on recovery the levels
 * still hold from before, and if no beat is found for a while they decay until beats are found again.
 * A chunk going backwards or changing `fsHz` is a StreamError ECG_ERR_STREAM on the error channel.
 * On complete, a peak that was held for a stronger neighbour is emitted (and peaks of a stream shorter than the
 * 2 s learning phase are decided), then complete is forwarded.
 *
 * ## Example
 * ```ts
 * recordSource(mitdbDir(), '100').pipe(bandpass(), detectRPeaks()).subscribe((p) => console.log(p.sampleIndex, p.latencySamples));
 * ```
 * @param options.method `pantompkins1985` (default)
 * @param options.maxBridgedGapMs longest gap bridged as missing samples, ms, default 2000
 * @param options.leadFallback also detect on the first aux lead and use it while the primary is flat, default false
 * @param options (the PanTompkinsParams) override the published constants; defaults in PAN_TOMPKINS_DEFAULTS
 * @see bandpass, PAN_TOMPKINS_DEFAULTS
 *
 * References:
 *  - Pan J, Tompkins WJ. A real-time QRS detection algorithm. IEEE Trans Biomed Eng 1985;32(3):230-236.
 *    doi:10.1109/TBME.1985.325532
 *  - Hamilton PS, Tompkins WJ. Quantitative investigation of QRS detection rules using the MIT/BIH arrhythmia
 *    database. IEEE Trans Biomed Eng 1986;33(12):1157-1165. doi:10.1109/TBME.1986.325695
 */
export function detectRPeaks(options: DetectRPeaksOptions = {}): OperatorFunction<SampleChunk, RPeak> {
  const { method = 'pantompkins1985', maxBridgedGapMs = 2000, leadFallback = false, ...overrides } = options;
  if (method !== 'pantompkins1985') throw new ConfigError('ECG_ERR_BAD_OPTION', `detectRPeaks: unknown method "${String(method)}" (expected pantompkins1985)`);
  if (!(maxBridgedGapMs >= 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `detectRPeaks: maxBridgedGapMs=${maxBridgedGapMs} must be >= 0`);
  const params: PanTompkinsParams = { ...PAN_TOMPKINS_DEFAULTS };
  for (const [key, value] of Object.entries(overrides) as [keyof PanTompkinsParams, number | undefined][]) {
    if (value === undefined) continue;
    if (!(key in PAN_TOMPKINS_DEFAULTS)) throw new ConfigError('ECG_ERR_BAD_OPTION', `detectRPeaks: unknown option "${key}"`);
    if (!(Number.isFinite(value) && value > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `detectRPeaks: ${key}=${value} must be a positive number`);
    params[key] = value;
  }
  return (source) =>
    new Observable<RPeak>((subscriber) => {
      let engine: Engine | undefined;
      let fsHz = 0;
      let streamId = '';
      let primaryLead = '';
      let auxLead: string | undefined;
      let gapFill = new Float32Array(0);
      // One callback per subscription (not per sample): turns the engine's numbers into RPeak events.
      const emit = (sampleIndex: number, amplitudeMv: number, detectedAtSample: number, searchBack: boolean, lead: string): void => {
        subscriber.next({ streamId, sampleIndex, fsHz, amplitudeMv, detectedAtSample, latencySamples: detectedAtSample - sampleIndex, lead, searchBack });
      };
      const start = (startSample: number): Engine => {
        if (auxLead !== undefined) return new LeadFallbackDetector(fsHz, params, startSample, primaryLead, auxLead, emit);
        const d = new PanTompkinsDetector(fsHz, params, startSample, (i, a, at, sb) => emit(i, a, at, sb, primaryLead));
        return { get nextSample() { return d.nextSample; }, process: (x) => d.process(x), finish: () => d.finish() };
      };
      const gapOf = (length: number): Float32Array => {
        if (gapFill.length < length) gapFill = new Float32Array(length).fill(Number.NaN);
        return gapFill.subarray(0, length);
      };
      return source.subscribe({
        next: (chunk) => {
          try {
            if (engine === undefined) {
              fsHz = chunk.fsHz;
              streamId = chunk.streamId;
              primaryLead = chunk.lead;
              if (leadFallback && chunk.auxLeads !== undefined && chunk.auxLeads.length > 0) auxLead = chunk.auxLeads[0]!.lead;
              if (!(fsHz > 0)) return subscriber.error(new StreamError('ECG_ERR_STREAM', `detectRPeaks: fsHz=${fsHz} must be > 0`, { streamId: chunk.streamId, sampleIndex: chunk.startSample }));
              engine = start(chunk.startSample);
            } else if (chunk.fsHz !== fsHz) {
              return subscriber.error(new StreamError('ECG_ERR_STREAM', `detectRPeaks: sampling rate changed from ${fsHz} to ${chunk.fsHz} Hz`, { streamId: chunk.streamId, sampleIndex: chunk.startSample }));
            }
            const gap = chunk.startSample - engine.nextSample;
            if (gap < 0) return subscriber.error(new StreamError('ECG_ERR_STREAM', `detectRPeaks: chunk starts at ${chunk.startSample}, expected ${engine.nextSample} or later`, { streamId: chunk.streamId, sampleIndex: chunk.startSample }));
            if (gap > 0) {
              if (gap <= (maxBridgedGapMs * fsHz) / 1000) {
                // Bridge: the missing samples go in as NaN (held), so timing and levels carry on.
                const fill = gapOf(gap);
                engine.process(fill, fill);
              } else {
                engine.finish();
                engine = start(chunk.startSample);
              }
            }
            // A chunk without the aux lead (it dropped out) feeds NaN for it.
            const aux = auxLead === undefined ? undefined : (chunk.auxLeads?.[0]?.samples ?? gapOf(chunk.samples.length).slice());
            engine.process(chunk.samples, aux);
          } catch (error) {
            // A fault in this stage (a malformed chunk, a bug) ends the stream on the error channel, not as an uncaught
            // exception (RxJS reports throws from a next handler as unhandled).
            subscriber.error(error);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => {
          try {
            engine?.finish();
          } catch (error) {
            subscriber.error(error);
            return;
          }
          subscriber.complete();
        },
      });
    });
}
