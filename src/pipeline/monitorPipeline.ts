import { connect, type Observable, type OperatorFunction } from 'rxjs';
import type { BeatWindow, RPeak, SampleChunk } from '../types.js';
import { bandpass, type BandpassOptions } from './bandpass.js';
import { compareToTemplate, type CompareToTemplateOptions } from './compareToTemplate.js';
import { detectRPeaks, type DetectRPeaksOptions } from './detectRPeaks.js';
import { resample } from './resample.js';
import { windowBeats, type WindowBeatsOptions } from './windowBeats.js';

export interface MonitorPipelineOptions {
  /** Rate the beat windows are cut at, Hz. Default 360 (MIT-BIH, the classifier's input). */
  fsHz?: number;
  bandpass?: BandpassOptions;
  detect?: DetectRPeaksOptions;
  window?: WindowBeatsOptions;
  template?: CompareToTemplateOptions;
  /**
   * Where the R-peaks come from, given the band-passed stream at `fsHz`. Default: `detectRPeaks(detect)`.
   * The dataset builder passes the reference annotations here to cut beats exactly where they are annotated.
   */
  rPeaks?: (filtered$: Observable<SampleChunk>) => Observable<RPeak>;
}

/**
 * The monitor's signal path, from raw chunks to beat windows, one step per line as NeuroKit2's ecg_process.
 * The dataset builder replays records through this same function (src/dataset/extractBeats.ts), so the classifier
 * trains on beats cut exactly as the live stream cuts them.
 *
 * `connect` shares the band-passed stream between the R-peak stage and the windower and starts the source only once
 * both listen, so a synchronous source (a record read as fast as possible) loses nothing.
 */
export function monitorPipeline(options: MonitorPipelineOptions = {}): OperatorFunction<SampleChunk, BeatWindow> {
  const { fsHz = 360, rPeaks = (filtered$) => filtered$.pipe(detectRPeaks(options.detect)) } = options;
  return (chunks$) =>
    chunks$.pipe(
      bandpass(options.bandpass), // 0.5-40 Hz Butterworth: baseline wander and mains out; also the anti-alias filter
      resample({ toHz: fsHz }), // front-ends at 250 or 500 Hz -> the classifier's 360 Hz (a pass-through at 360 Hz)
      connect((filtered$) => filtered$.pipe(windowBeats(rPeaks(filtered$), options.window))), // R-peaks, then 180 + 180 samples around each
      compareToTemplate(options.template), // each beat against the median of the stream's recent beats
    );
}
