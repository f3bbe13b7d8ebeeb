import { pipe, type OperatorFunction } from 'rxjs';
import type { RPeak, SampleChunk } from '../types.js';
import { bandpass, type BandpassOptions } from './bandpass.js';
import { detectRPeaks, type DetectRPeaksOptions } from './detectRPeaks.js';
import { resample, type ResampleOptions } from './resample.js';

export interface SignalPipelineOptions {
  bandpass?: BandpassOptions;
  /** Resample to this rate first when the source runs at another; undefined: no resampling (the detector adapts to any rate). */
  resample?: ResampleOptions;
  detect?: DetectRPeaksOptions;
}

/**
 * The signal path from sample chunks to R-peaks, composition only (one step per line, as NeuroKit2's ecg_process).
 *
 * ## Example
 * ```ts
 * recordSource(mitdbDir(), '100').pipe(signalPipeline()).subscribe((peak) => console.log(peak.sampleIndex));
 * ```
 * @see bandpass, resample, detectRPeaks
 */
export function signalPipeline(options: SignalPipelineOptions = {}): OperatorFunction<SampleChunk, RPeak> {
  return pipe(
    bandpass(options.bandpass), // 0.5-40 Hz Butterworth: baseline wander and EMG/mains out, QRS kept
    options.resample ? resample(options.resample) : (chunks$) => chunks$, // 250/500 Hz front-ends to 360 Hz, after band-limiting
    detectRPeaks(options.detect), // Pan-Tompkins: R-peak at the band-passed extremum, with its latency
  );
}
