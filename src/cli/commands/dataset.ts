import type { Command } from 'commander';
import { defaultDatasetDir, mitdbDir } from '../../config.js';
import { buildDataset } from '../../dataset/buildDataset.js';
import type { BeatPositions } from '../../dataset/extractBeats.js';
import { ConfigError } from '../../errors.js';
import { leadOption, newCommand, progressLine, recordsOption, type CliIo, type RecordsOption } from '../io.js';
import { listRecords } from '../../eval/qrsDatabase.js';

/** `ecg-monitor dataset build`: beat windows for training, cut by replaying records through the live operators. */
export function datasetCommand(io: CliIo): Command {
  const dataset = newCommand('dataset', io)
    .description('build the beat dataset the classifier trains on')
    .addHelpText('after', '\nExamples:\n  ecg-monitor dataset build                          # MIT-BIH at reference positions\n  ecg-monitor dataset build --positions detector     # at the detector\'s R-peaks (end to end)\n');
  dataset
    .addCommand(
      newCommand('build', io)
        .description('replay records through source -> band-pass -> [R-peaks] -> beat windows and store windows, RR and usual-beat features, labels and each beat\'s usual beat')
        .option('--dir <path>', 'WFDB database folder (default: MITDB_DIR)')
        .option('--records <list>', "'all' (the RECORDS file) or comma-separated record names", recordsOption, 'all')
        .option('--positions <kind>', 'beat positions: reference (annotations) or detector (end to end)', 'reference')
        .option('--lead <name>', 'lead to window, a name or a signal index (0, 1, ...): MLII where a record has it, else its first signal (V5 in 102 and 104)', 'MLII')
        .option('--out <dir>', 'output folder (default: $XDG_CACHE_HOME/ecg-monitor/datasets/mitdb-<positions>, the one train reads; required with --records or --lead)')
        .option('--force', 'rebuild even if the folder holds an up-to-date dataset', false)
        .addHelpText('after', '\nExample:\n  ecg-monitor dataset build --positions reference\n')
        .action(async (opts: { dir?: string; records: RecordsOption; positions: string; lead: string; out?: string; force: boolean }) => {
          if (opts.positions !== 'reference' && opts.positions !== 'detector') {
            throw new ConfigError('ECG_ERR_USAGE', `--positions must be reference or detector, got "${opts.positions}"`);
          }
          const positions = opts.positions as BeatPositions;
          const dir = opts.dir ?? mitdbDir(io.env);
          // The default folder is the one `train` and `eval beats` read: only the full default build may replace it.
          if (opts.out === undefined && (opts.records !== 'all' || opts.lead !== 'MLII')) {
            throw new ConfigError('ECG_ERR_USAGE', 'dataset build: --records or --lead build another dataset than the one train and eval beats read by default; give it its own --out');
          }
          const records = opts.records === 'all' ? await listRecords(dir) : opts.records;
          const out = opts.out ?? defaultDatasetDir(positions, io.env);
          const started = Date.now();
          const result = await buildDataset({
            dir, records, out, positions, lead: leadOption(opts.lead), force: opts.force,
            onRecord: (done, total, record, beats) => progressLine(io, `[${done}/${total}] ${record}: ${beats} beats`),
          });
          if (io.stderr.isTTY) io.stderr.write('\n');
          const unmatched = result.records.reduce((n, r) => n + r.unmatchedDetections, 0);
          const missed = result.records.reduce((n, r) => n + r.missedReferenceBeats, 0);
          io.stdout.write(
            `${result.reused ? 'up to date' : 'built'}: ${result.count} beats from ${result.records.length} records in ${((Date.now() - started) / 1000).toFixed(1)} s -> ${result.out}\n` +
              `content ${result.hash}\n` +
              (positions === 'detector' ? `detections with no reference beat within 150 ms: ${unmatched}; reference beats not detected: ${missed}\n` : ''),
          );
        }),
    );
  return dataset;
}
