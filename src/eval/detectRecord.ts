import { lastValueFrom, toArray } from 'rxjs';
import { ConfigError } from '../errors.js';
import { signalPipeline, type SignalPipelineOptions } from '../pipeline/signalPipeline.js';
import { recordSource } from '../sources/recordSource.js';
import type { RPeak } from '../types.js';
import type { RecordHeader } from '../wfdb/header.js';
import type { DetectRecord } from './qrsDatabase.js';

/**
 * Runs the project's signal path (record source -> band-pass -> Pan-Tompkins R-peaks, the same RxJS operators as
 * the live stream, one-second chunks, as fast as possible) over one record and collects its R-peaks.
 * No resampling: the detector adapts to the record's rate, so peaks stay in the record's own sample numbering,
 * which is what the reference annotations use.
 *
 * With `leadFallback`, the first other signal of the record is read too and the detector falls back to it while
 * the primary lead is flat or missing (detectRPeaks `leadFallback`, see src/pipeline/leadFallback.ts).
 *
 * @param request.dir database folder; request.record record name; request.lead signal number or name (default 0);
 *   request.leadFallback use the first other signal as fallback lead (default false)
 * @param pipeline options of the signal pipeline (default: the project's defaults)
 */
export function detectRecordRPeaks(request: Parameters<DetectRecord>[0], pipeline: SignalPipelineOptions = {}): Promise<RPeak[]> {
  const { dir, record, header, lead = 0, leadFallback = false } = request;
  const auxLeads = leadFallback ? fallbackLeads(header, lead) : [];
  const detect = { ...pipeline.detect, leadFallback: leadFallback && auxLeads.length > 0 };
  return lastValueFrom(recordSource(dir, record, { lead, auxLeads }).pipe(signalPipeline({ ...pipeline, detect }), toArray()));
}

/** The first signal other than `lead` (by index or name), as a one-element list; empty for a one-signal record. */
export function fallbackLeads(header: RecordHeader, lead: number | string): number[] {
  const primary = typeof lead === 'number' ? lead : header.signals.findIndex((s) => s.description === lead);
  if (primary < 0 || primary >= header.signals.length) {
    throw new ConfigError('ECG_ERR_BAD_OPTION', `${header.file}: no signal "${lead}" (signals: ${header.signals.map((s) => s.description).join(', ')})`);
  }
  const other = header.signals.findIndex((_, i) => i !== primary);
  return other >= 0 ? [other] : [];
}
