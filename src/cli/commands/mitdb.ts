import { writeFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { mitdbDir } from '../../config.js';
import { EcgMonitorError } from '../../errors.js';
import { fetchDatabase, MITDB_BASE_URL, verifyDatabase, type RecordCheck } from '../../wfdb/mitdb.js';
import { helpFile, newCommand, positiveInteger, recordsOption, type CliIo, type RecordsOption } from '../io.js';

/** The records named, or undefined for all (the RECORDS file). */
const listedRecords = (records: RecordsOption | undefined): string[] | undefined => (records === 'all' ? undefined : records);

/** One line per record: verdict, SHA-256 of its files, then first value / checksum of each signal. */
export function formatRecordCheck(c: RecordCheck): string {
  const bad = c.files.filter((f) => !f.ok);
  const files = bad.length === 0 ? `sha256 ok (${c.files.map((f) => f.file.split('.').pop()).join(' ')})` : `sha256 ${bad.map((f) => `${f.file} ${f.problem}`).join(', ')}`;
  const signals = c.error
    ? `${c.error.code}: ${c.error.message}`
    : c.signals
        .map((s) =>
          s.ok
            ? `${s.description} first ${s.firstValue} checksum ${s.checksum} ok`
            : `${s.description} first ${s.firstValue} (header ${s.expectedFirstValue}) checksum ${s.checksum} (header ${s.expectedChecksum ?? '-'}) MISMATCH`,
        )
        .join('; ');
  return `${c.record.padEnd(6)} ${c.ok ? 'ok  ' : 'FAIL'}  ${files}  ${signals}\n`;
}

function verifyCommand(io: CliIo): Command {
  return newCommand('verify', io)
    .description('check SHA256SUMS and every signal\'s first value and checksum; one line per record')
    .addOption(new Option('--dir <path>', 'database folder').default(mitdbDir(io.env), `MITDB_DIR, else the fetch folder; here "${mitdbDir(io.env)}"`))
    .option('--records <list>', "'all' (the RECORDS file) or comma-separated record names", recordsOption)
    .option('--json <file>', 'write the full result as JSON')
    .addHelpText('after', helpFile('mitdb-verify'))
    .action(async (flags: { dir: string; records?: RecordsOption; json?: string }) => {
      const result = await verifyDatabase({ dir: flags.dir, records: listedRecords(flags.records), onRecord: (c) => io.stdout.write(formatRecordCheck(c)) });
      for (const f of result.databaseFiles) io.stdout.write(`${f.file.padEnd(6)} ${f.ok ? 'ok  ' : 'FAIL'}  sha256 ${f.ok ? 'ok' : f.problem}\n`);
      const failed = result.records.filter((r) => !r.ok);
      io.stdout.write(`${result.records.length} records in ${flags.dir}: ${result.records.length - failed.length} ok, ${failed.length} failed\n`);
      if (flags.json) await writeFile(flags.json, `${JSON.stringify(result, null, 2)}\n`);
      if (!result.ok) {
        const shaProblem = failed.some((r) => r.files.some((f) => !f.ok)) || result.databaseFiles.some((f) => !f.ok);
        const list = failed.map((r) => r.record).join(', ') || result.databaseFiles.filter((f) => !f.ok).map((f) => f.file).join(', ');
        throw new EcgMonitorError(shaProblem ? 'ECG_ERR_SHA256' : 'ECG_ERR_CHECKSUM', `verify failed: ${list}`);
      }
    });
}

function fetchCommand(io: CliIo): Command {
  return newCommand('fetch', io)
    .description('download the database from PhysioNet and check SHA256SUMS (resumable)')
    .addOption(new Option('--dir <path>', 'target folder').default(mitdbDir(io.env), `MITDB_DIR, else $XDG_CACHE_HOME/ecg-monitor/mitdb; here "${mitdbDir(io.env)}"`))
    .option('--base-url <url>', 'file area to download from', MITDB_BASE_URL)
    .option('--records <list>', "'all' (the RECORDS file) or comma-separated record names", recordsOption)
    .option('--concurrency <n>', 'files downloaded at once', positiveInteger, 4)
    .addHelpText('after', helpFile('mitdb-fetch'))
    .action(async (flags: { dir: string; baseUrl: string; records?: RecordsOption; concurrency: number }) => {
      const result = await fetchDatabase({
        dir: flags.dir,
        baseUrl: flags.baseUrl,
        records: listedRecords(flags.records),
        concurrency: flags.concurrency,
        onProgress: (e) =>
          io.stderr.write(`[${e.index}/${e.total}] ${e.file} ${e.status === 'skipped' ? 'present, sha256 ok' : `${(e.bytes / 1e6).toFixed(2)} MB, sha256 ok`}\n`),
      });
      io.stdout.write(
        `${result.records.length} records in ${result.dir}: ${result.downloaded.length} files downloaded (${(result.bytesDownloaded / 1e6).toFixed(1)} MB), ${result.skipped.length} already present\n`,
      );
    });
}

/** `ecg-monitor mitdb <fetch|verify>`: get and check the MIT-BIH Arrhythmia Database. */
export function mitdbCommand(io: CliIo): Command {
  return newCommand('mitdb', io)
    .description('download and verify the MIT-BIH Arrhythmia Database')
    .addHelpText('after', '\nExamples:\n  ecg-monitor mitdb fetch                      # all 48 records, checked against SHA256SUMS\n  ecg-monitor mitdb verify --records 100,208\n')
    .addCommand(fetchCommand(io))
    .addCommand(verifyCommand(io));
}
