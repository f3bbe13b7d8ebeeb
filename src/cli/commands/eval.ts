import type { Command } from 'commander';
import { newCommand, type CliIo } from '../io.js';
import { evalBeatsCommand } from './evalBeats.js';
import { evalFoldsCommand } from './evalFolds.js';
import { evalQrsCommand } from './evalQrs.js';
import { evalReportCommand } from './evalReport.js';

/** `ecg-monitor eval <qrs|beats|report|folds>`: scoring against reference annotations, EC57 style. */
export function evalCommand(io: CliIo): Command {
  return newCommand('eval', io)
    .description('score detections or beat classes against reference annotations (EC57)')
    .addHelpText(
      'after',
      '\nExamples:\n  ecg-monitor eval qrs --from 300                  # R-peak detector, 48 MIT-BIH records\n  ecg-monitor eval beats --model mshan-inter       # beat classes on the inter-patient test records\n  ecg-monitor eval report --markdown report.md     # every trained model, the model card\'s tables\n',
    )
    .addCommand(evalQrsCommand(io))
    .addCommand(evalBeatsCommand(io))
    .addCommand(evalReportCommand(io))
    .addCommand(evalFoldsCommand(io));
}
