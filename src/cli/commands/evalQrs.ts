import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { mitdbDir } from '../../config.js';
import { evaluateQrs, type DetectRecord, type QrsEvaluation } from '../../eval/qrsDatabase.js';
import type { QrsRecordScore } from '../../eval/qrs.js';
import { log } from '../../log.js';
import { helpFile, leadOption, newCommand, nonNegativeNumber, positiveNumber, recordsOption, type CliIo, type RecordsOption } from '../io.js';

/** What `eval qrs` needs besides its flags; tests may inject a detector. */
export interface EvalQrsDeps {
  /** The detector run when --detections is not given. Default: the project's signal pipeline (loaded lazily). */
  detect?: DetectRecord;
}

interface EvalQrsFlags {
  dir: string;
  records: RecordsOption;
  from: number;
  detections?: string;
  annotator: string;
  referenceAnnotator: string;
  matchWindowMs: number;
  out?: string;
  json?: string;
  lead?: number | string;
  leadFallback: boolean;
}

/** Loads the project's detector only when a run needs it, so scoring files does not load the pipeline. */
const defaultDetect: DetectRecord = async (request) => {
  const { detectRecordRPeaks } = await import('../../eval/detectRecord.js');
  return detectRecordRPeaks(request);
};

const fmt = (x: number | undefined, digits = 3): string => (x === undefined ? '-' : x.toFixed(digits));

/** One table row: record, rate, counts, Se and +P (percent, 3 decimals). */
function row(cells: (string | number)[]): string {
  const widths = [8, 6, 8, 6, 6, 8, 8];
  return `${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' ')}\n`;
}

function recordRow(s: QrsRecordScore): string {
  return row([s.record, s.fsHz, s.tp, s.fn, s.fp, fmt(s.sePercent), fmt(s.ppPercent)]);
}

/** The table's footer: gross (summed counts) and average (mean of per-record figures). */
function footer(result: QrsEvaluation): string {
  const g = result.gross;
  return (
    row(['gross', '', g.tp, g.fn, g.fp, fmt(g.sePercent), fmt(g.ppPercent)]) +
    row(['average', '', '', '', '', fmt(result.average.sePercent), fmt(result.average.ppPercent)])
  );
}

/**
 * `ecg-monitor eval qrs`: EC57 QRS detection scoring (bxb's matching, 150 ms window) of the project's detector,
 * or of existing annotation files, against a WFDB database's reference beat annotations. Prints a per-record
 * table and gross + average Se and +P; `--out DIR` writes the detections as `DIR/<record>.qrs` and
 * `DIR/summary.json`; `--json FILE` writes the summary.
 */
export function evalQrsCommand(io: CliIo, deps: EvalQrsDeps = {}): Command {
  return newCommand('qrs', io)
    .description('EC57 QRS detection Se/+P against reference beat annotations (bxb-compatible matching)')
    .option('--dir <path>', 'WFDB database folder (MITDB_DIR, else where `mitdb fetch` puts it)', mitdbDir(io.env))
    .option('--records <list>', "'all' (the RECORDS file) or comma-separated record names", recordsOption, 'all')
    .option('--from <seconds>', 'start of the comparison, s (300 = EC57 5-minute start)', nonNegativeNumber, 0)
    .option('--detections <dir>', 'score existing annotation files DIR/<record>.<annotator> instead of running the detector')
    .option('--annotator <name>', 'test annotator: read with --detections, written with --out', 'qrs')
    .option('--reference-annotator <name>', 'reference annotator', 'atr')
    .option('--match-window-ms <ms>', 'match window, ms (EC57: 150)', positiveNumber, 150)
    .option('--lead <n|name>', 'lead the detector uses: signal number (0-based) or name (default: first signal)', leadOption)
    .option('--lead-fallback', "detector falls back to the record's other signal while the lead is flat or missing", false)
    .option('--out <dir>', 'write detections as DIR/<record>.<annotator> (WFDB, readable by rdann and bxb) and DIR/summary.json')
    .option('--json <file>', 'write the summary as JSON')
    .addHelpText('after', helpFile('eval-qrs'))
    .action(async (flags: EvalQrsFlags) => {
      io.stdout.write(row(['record', 'fs_Hz', 'TP', 'FN', 'FP', 'Se%', '+P%']));
      const result = await evaluateQrs({
        dir: flags.dir,
        records: flags.records,
        referenceAnnotator: flags.referenceAnnotator,
        fromS: flags.from,
        matchWindowS: flags.matchWindowMs / 1000,
        detections: flags.detections !== undefined ? { dir: flags.detections, annotator: flags.annotator } : undefined,
        detect: deps.detect ?? defaultDetect,
        lead: flags.lead,
        leadFallback: flags.leadFallback,
        outDir: flags.out,
        outAnnotator: flags.annotator,
        onRecord: (s) => {
          io.stdout.write(recordRow(s));
          log.debug({ record: s.record, tp: s.tp, fn: s.fn, fp: s.fp }, 'eval qrs: record scored');
        },
      });
      io.stdout.write(footer(result));
      if (flags.json !== undefined) await writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
      log.info(
        { records: result.records, from_s: result.fromS, se: result.gross.sePercent, pp: result.gross.ppPercent },
        'eval qrs: done',
      );
    });
}
