import { lastValueFrom, toArray } from 'rxjs';
import { signalPipeline, type SignalPipelineOptions } from '../pipeline/signalPipeline.js';
import { recordSource } from '../sources/recordSource.js';
import type { RPeak } from '../types.js';
import type { DetectRecord } from './qrsDatabase.js';

/**
 * Runs the project's signal path (record source -> band-pass -> Pan-Tompkins R-peaks, the same RxJS operators as
 * the live stream, one-second chunks, as fast as possible) over one record and collects its R-peaks.
 * No resampling: the detector adapts to the record's rate, so peaks stay in the record's own sample numbering,
 * which is what the reference annotations use.
 *
 * @param request.dir database folder; request.record record name; request.lead signal number or name (default 0)
 * @param pipeline options of the signal pipeline (default: the project's defaults)
 */
export function detectRecordRPeaks(
  request: Parameters<DetectRecord>[0],
  pipeline: SignalPipelineOptions = {},
): Promise<RPeak[]> {
  const { dir, record, lead = 0 } = request;
  return lastValueFrom(recordSource(dir, record, { lead }).pipe(signalPipeline(pipeline), toArray()));
}
