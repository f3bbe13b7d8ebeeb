import { Observable, type OperatorFunction } from 'rxjs';
import { ConfigError, StreamError } from '../errors.js';
import type { BeatWindow, RPeak, SampleChunk } from '../types.js';

export interface WindowBeatsOptions {
  /** Samples kept before the R-peak. Default 180 (0.5 s at 360 Hz, the MSHAN input). */
  samplesBefore?: number;
  /** Samples kept from the R-peak on (the R-peak included). Default 180. */
  samplesAfter?: number;
  /** RR intervals averaged for `localMeanRrMs` and `localVariationRrMs`. Default 10 (about 8 s of sinus rhythm). */
  localBeats?: number;
  /**
   * Samples kept behind the newest one for peaks that arrive late (the detector's latency, search-back).
   * Default 10 s at the stream's rate; a peak older than that is a stream error, not a silent drop.
   */
  historyMs?: number;
}

/**
 * Cuts one window of samples around every R-peak of `rPeaks$` out of the chunk stream, with the beat's RR features.
 *
 * Both inputs come from the same stream: `rPeaks$` is usually the band-passed chunks piped through `detectRPeaks`,
 * or, to build a training set, the reference annotations turned into peaks. A beat is emitted once the samples up
 * to `sampleIndex + samplesAfter` and the next R-peak (for `nextRrMs`) have arrived, so on a live stream a beat
 * comes out one RR interval plus `samplesAfter` samples after its R-peak. On complete, pending beats are flushed:
 * the last beat's `nextRrMs` repeats its `previousRrMs`, and the first beat's `previousRrMs` repeats its `nextRrMs`.
 *
 * Windows that reach past the start or end of the stream, or over a gap (NaN samples or a jump in `startSample`),
 * are padded with the nearest valid sample of the window (zeros if it has none) and say so in `paddedSamples`,
 * so no beat is lost and the classifier never sees NaN.
 *
 * ## Example
 * ```ts
 * const filtered$ = recordSource(dir, '100').pipe(bandpass(), share());
 * const beats$ = filtered$.pipe(windowBeats(filtered$.pipe(detectRPeaks())));
 * ```
 *
 * @param rPeaks$ R-peaks of the same stream, in increasing `sampleIndex`.
 * @param options see {@link WindowBeatsOptions}.
 *
 * References: the 180 + 180 window at 360 Hz and the RR features follow the MSHAN design and de Chazal P, O'Dwyer M,
 * Reilly RB. Automatic classification of heartbeats using ECG morphology and heartbeat interval features.
 * IEEE TBME 2004;51(7):1196-1206. doi:10.1109/TBME.2004.827359
 */
export function windowBeats(rPeaks$: Observable<RPeak>, options: WindowBeatsOptions = {}): OperatorFunction<SampleChunk, BeatWindow> {
  const { samplesBefore = 180, samplesAfter = 180, localBeats = 10, historyMs = 10_000 } = options;
  for (const [name, value] of Object.entries({ samplesBefore, samplesAfter, localBeats })) {
    if (!Number.isInteger(value) || value < (name === 'samplesBefore' ? 0 : 1)) {
      throw new ConfigError('ECG_ERR_BAD_OPTION', `windowBeats: ${name}=${value} must be a ${name === 'samplesBefore' ? 'non-negative' : 'positive'} integer`);
    }
  }
  if (!(historyMs > 0)) throw new ConfigError('ECG_ERR_BAD_OPTION', `windowBeats: historyMs=${historyMs} must be > 0`);
  const windowLength = samplesBefore + samplesAfter;

  return (chunks$) =>
    new Observable<BeatWindow>((subscriber) => {
      // Sample memory: buffer[i] holds stream sample bufferStart + i; samples from the chunks seen, NaN in gaps.
      let buffer = new Float32Array(0);
      let bufferStart = 0;
      let bufferEnd = 0; // one past the newest sample
      let firstSample: number | undefined; // first sample index of the stream
      let streamId = '';
      let fsHz = 0;
      let chunksDone = false;
      let peaksDone = false;
      // Peaks waiting for samples or for the next peak; the RR history of the stream.
      const pending: RPeak[] = [];
      let previousPeak: number | undefined;
      const recentRrSamples: number[] = [];
      let rrSumSamples = 0;
      let rrCount = 0;

      const append = (chunk: SampleChunk): void => {
        if (firstSample === undefined) {
          firstSample = bufferStart = bufferEnd = chunk.startSample;
          streamId = chunk.streamId;
          fsHz = chunk.fsHz;
        } else if (chunk.fsHz !== fsHz) {
          throw new StreamError('ECG_ERR_STREAM', `windowBeats: rate changed from ${fsHz} Hz to ${chunk.fsHz} Hz`, { streamId, sampleIndex: chunk.startSample });
        } else if (chunk.startSample < bufferEnd) {
          throw new StreamError('ECG_ERR_STREAM', `windowBeats: chunk starts at ${chunk.startSample}, before the end of the previous one (${bufferEnd})`, { streamId, sampleIndex: chunk.startSample });
        }
        const historySamples = Math.ceil((historyMs * fsHz) / 1000);
        const newEnd = chunk.startSample + chunk.samples.length;
        // Keep what pending peaks still need, and at least historySamples behind the newest sample for late peaks.
        const keepFrom = Math.min(newEnd - historySamples, pending.length > 0 ? pending[0].sampleIndex - samplesBefore : Infinity);
        const dropCount = Math.max(0, Math.min(keepFrom, bufferEnd) - bufferStart);
        const keptLength = bufferEnd - bufferStart - dropCount;
        const needed = newEnd - bufferStart - dropCount;
        if (needed > buffer.length) {
          const grown = new Float32Array(Math.max(needed, 2 * buffer.length));
          grown.set(buffer.subarray(dropCount, dropCount + keptLength));
          buffer = grown;
        } else if (dropCount > 0) {
          buffer.copyWithin(0, dropCount, dropCount + keptLength);
        }
        bufferStart += dropCount;
        buffer.fill(Number.NaN, bufferEnd - bufferStart, chunk.startSample - bufferStart); // a gap
        buffer.set(chunk.samples, chunk.startSample - bufferStart);
        bufferEnd = newEnd;
      };

      const emitReady = (): void => {
        while (pending.length > 0) {
          const peak = pending[0];
          const nextPeak = pending[1];
          const haveSamples = chunksDone || bufferEnd >= peak.sampleIndex + samplesAfter;
          const haveNext = nextPeak !== undefined || peaksDone;
          if (!haveSamples || !haveNext) return;
          pending.shift();
          subscriber.next(cut(peak, nextPeak));
        }
      };

      const cut = (peak: RPeak, nextPeak: RPeak | undefined): BeatWindow => {
        const start = peak.sampleIndex - samplesBefore;
        const samples = new Float32Array(windowLength);
        let padded = 0;
        for (let i = 0; i < windowLength; i++) {
          const at = start + i - bufferStart;
          const value = at >= 0 && at < bufferEnd - bufferStart ? buffer[at] : Number.NaN;
          samples[i] = value;
          if (Number.isNaN(value)) padded++;
        }
        if (padded > 0) padNearest(samples);

        const fs = peak.fsHz || fsHz;
        const previousRr = previousPeak === undefined ? undefined : peak.sampleIndex - previousPeak;
        if (previousRr !== undefined) {
          recentRrSamples.push(previousRr);
          if (recentRrSamples.length > localBeats) recentRrSamples.shift();
          rrSumSamples += previousRr;
          rrCount++;
        }
        previousPeak = peak.sampleIndex;
        const nextRr = nextPeak === undefined ? undefined : nextPeak.sampleIndex - peak.sampleIndex;
        const toMs = (samplesCount: number): number => (samplesCount * 1000) / fs;
        const previousRrMs = toMs(previousRr ?? nextRr ?? 0);
        const nextRrMs = toMs(nextRr ?? previousRr ?? 0);
        const localMeanRrMs = recentRrSamples.length > 0 ? toMs(mean(recentRrSamples)) : nextRrMs;
        const recordMeanRrMs = rrCount > 0 ? toMs(rrSumSamples / rrCount) : nextRrMs;
        const localVariationRrMs = toMs(meanAbsoluteSuccessiveDifference(recentRrSamples));
        const beat: BeatWindow = {
          streamId: peak.streamId,
          sampleIndex: peak.sampleIndex,
          fsHz: fs,
          samples,
          samplesBefore,
          rr: { previousRrMs, nextRrMs, localMeanRrMs, recordMeanRrMs, localVariationRrMs },
          paddedSamples: padded,
        };
        if (peak.label !== undefined) beat.label = peak.label;
        return beat;
      };

      const fail = (error: unknown): void => subscriber.error(error);
      const finishIfDone = (): void => {
        if (!chunksDone || !peaksDone) return;
        emitReady();
        subscriber.complete();
      };

      const peaksSubscription = rPeaks$.subscribe({
        next: (peak) => {
          const last = pending.at(-1)?.sampleIndex ?? previousPeak ?? -Infinity;
          if (peak.sampleIndex <= last) {
            fail(new StreamError('ECG_ERR_STREAM', `windowBeats: R-peaks out of order (${peak.sampleIndex} after ${last})`, { streamId: peak.streamId, sampleIndex: peak.sampleIndex }));
            return;
          }
          // Samples of this window that the stream had but the history no longer holds: the peak came too late.
          if (firstSample !== undefined && Math.max(peak.sampleIndex - samplesBefore, firstSample) < bufferStart) {
            fail(new StreamError('ECG_ERR_STREAM', `windowBeats: R-peak arrived after its samples left the ${historyMs} ms history`, { streamId: peak.streamId, sampleIndex: peak.sampleIndex }));
            return;
          }
          pending.push(peak);
          try {
            emitReady();
          } catch (error) {
            fail(error);
          }
        },
        error: fail,
        complete: () => {
          peaksDone = true;
          finishIfDone();
        },
      });
      const chunksSubscription = chunks$.subscribe({
        next: (chunk) => {
          try {
            append(chunk);
            emitReady();
          } catch (error) {
            fail(error);
          }
        },
        error: fail,
        complete: () => {
          chunksDone = true;
          finishIfDone();
        },
      });
      return () => {
        peaksSubscription.unsubscribe();
        chunksSubscription.unsubscribe();
      };
    });
}

/** Mean of |x[k] - x[k-1]|; 0 for fewer than two values. */
function meanAbsoluteSuccessiveDifference(values: readonly number[]): number {
  let sum = 0;
  for (let k = 1; k < values.length; k++) sum += Math.abs(values[k] - values[k - 1]);
  return values.length > 1 ? sum / (values.length - 1) : 0;
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** Replaces NaN by the nearest valid sample of the window (the earlier one on a tie); all-NaN becomes zeros. */
function padNearest(samples: Float32Array): void {
  const n = samples.length;
  const nearestBefore = new Int32Array(n).fill(-1);
  let last = -1;
  for (let i = 0; i < n; i++) {
    if (!Number.isNaN(samples[i])) last = i;
    nearestBefore[i] = last;
  }
  let nextValid = -1;
  for (let i = n - 1; i >= 0; i--) {
    if (!Number.isNaN(samples[i])) {
      nextValid = i;
      continue;
    }
    const before = nearestBefore[i];
    const from = before < 0 ? nextValid : nextValid < 0 ? before : i - before <= nextValid - i ? before : nextValid;
    samples[i] = from < 0 ? 0 : samples[from];
  }
}
