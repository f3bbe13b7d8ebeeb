import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { packageRoot, resolveModelDir } from '../../config.js';
import { ConfigError } from '../../errors.js';
import { commaList, newCommand, progressLine, recordsOption, type CliIo, type RecordsOption } from '../io.js';

interface EvalReportFlags {
  models?: string;
  modelsDir: string;
  endToEnd: boolean;
  dir?: string;
  records: RecordsOption;
  lead: string;
  markdown?: string;
  update?: string;
  json?: string;
  plots?: string;
}

async function writeText(file: string, text: string): Promise<void> {
  await mkdir(dirname(resolve(file)), { recursive: true });
  await writeFile(file, text);
}

/**
 * `ecg-monitor eval report`: every trained model under models/ (or those named) scored as `eval beats` scores it, on
 * its own protocol and, for inter-patient AAMI models, end to end; Markdown tables (the model card's) and JSON.
 */
export function evalReportCommand(io: CliIo): Command {
  const defaultModelsDir = join(packageRoot(), 'models');
  return newCommand('report', io)
    .description("score every trained model as `eval beats` does and print the model card's tables (Markdown), one per protocol, models side by side")
    .option('--models <list>', 'comma-separated model names (under --models-dir) or folders (default: every folder with a manifest.json)')
    .option('--models-dir <dir>', 'where the models are', defaultModelsDir)
    .option('--no-end-to-end', 'skip the end-to-end runs (detector positions, whole DS2 records) of inter-patient models')
    .option('--dir <path>', 'score every beat of another WFDB database instead of the MIT-BIH protocols')
    .option('--records <list>', "with --dir: 'all' (RECORDS) or comma-separated names", recordsOption, 'all')
    .option('--lead <name>', 'lead to classify (default MLII; with --dir the database\'s lead name)', 'MLII')
    .option('--markdown <file>', 'write the Markdown here instead of stdout')
    .option('--update <file>', "replace the part between the report markers of this Markdown file (e.g. models/README.md, the model card) with the tables; markers appended when missing")
    .option('--json <file>', 'write the full report (every evaluation, as `eval beats --json` has it) as JSON')
    .option('--plots <dir>', 'write one confusion-matrix SVG per model and run (<model>-<positions>.svg) here (default: none)')
    .addHelpText('after', '\nExamples:\n  ecg-monitor eval report --markdown report.md --json report.json --plots models/plots\n  ecg-monitor eval report --update models/README.md --plots models/plots\n  ecg-monitor eval report --models mshan-inter,cnn-inter --no-end-to-end\n')
    .action(async (flags: EvalReportFlags) => {
      // TensorFlow.js loads only when this command runs.
      const { initBackend } = await import('../../model/backend.js');
      const { buildModelReport, findModelDirs, formatModelReport, mitdbSource, spliceReport } = await import('../../eval/modelReport.js');
      const modelsRoot = resolve(flags.modelsDir);
      let modelDirs: string[];
      let skipped: { dir: string; reason: string }[] = [];
      if (flags.models !== undefined) {
        modelDirs = commaList(flags.models).map((m) => resolveModelDir(m, modelsRoot));
        for (const d of modelDirs) if (!existsSync(d)) throw new ConfigError('ECG_ERR_USAGE', `--models: no model folder ${d}`);
      } else {
        ({ dirs: modelDirs, skipped } = await findModelDirs(modelsRoot));
        if (modelDirs.length === 0) throw new ConfigError('ECG_ERR_USAGE', `no trained model (folder with manifest.json) under ${modelsRoot}`);
      }
      await initBackend(undefined, io.env);
      const source = mitdbSource({
        env: io.env, dir: flags.dir === undefined ? undefined : resolve(flags.dir), records: flags.records, lead: flags.lead,
        onRecord: (done, total, record) => progressLine(io, `beats of ${record} (${done}/${total})`),
      });
      const report = await buildModelReport({
        modelDirs, source, endToEnd: flags.endToEnd && flags.dir === undefined, plotsDir: flags.plots,
        onRun: (done, total, what) => progressLine(io, `evaluating ${what} (${done + 1}/${total})`),
      });
      report.skipped.push(...skipped);
      if (io.stderr.isTTY) io.stderr.write('\n');
      const target = flags.markdown ?? flags.update;
      const markdown = formatModelReport(report, { markdownDir: target ? dirname(resolve(target)) : undefined });
      if (flags.markdown) await writeText(flags.markdown, markdown);
      if (flags.update) await writeText(flags.update, spliceReport(existsSync(flags.update) ? await readFile(flags.update, 'utf8') : '', markdown));
      if (!flags.markdown && !flags.update) io.stdout.write(markdown);
      // Per-record matrices are for paired comparisons (`eval beats --against`); the report's JSON keeps the summaries.
      const withoutMatrices = (key: string, value: unknown) => (key === 'perRecord' ? undefined : value);
      if (flags.json) await writeText(flags.json, JSON.stringify(report, withoutMatrices, 2) + '\n');
    });
}
