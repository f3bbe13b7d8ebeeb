import type { Command } from 'commander';
import { RULE_NAMES, type RuleName } from '../pipeline/rulesAfterModel.js';

/** Each rule after the model: its `--no-...` flag (commander makes the rule's name of it) and the calls it changes. */
const RULE_FLAGS: Record<RuleName, { flag: string; calls: string }> = {
  afGate: { flag: '--no-af-gate', calls: 'S calls in detected atrial fibrillation' },
  templateGate: { flag: '--no-template-gate', calls: "V calls whose QRS matches the stream's usual non-V beat" },
  timingGate: { flag: '--no-timing-gate', calls: 'V calls after a non-V beat that come on time with no pause after them' },
  pWaveGate: { flag: '--no-p-wave-gate', calls: "S calls whose P wave matches the stream's usual N beat" },
  qrsGate: { flag: '--no-qrs-gate', calls: "S calls whose QRS is unlike the stream's usual non-V beat" },
  atrialRunGate: { flag: '--no-atrial-run-gate', calls: 'N calls that continue a run of S beats at its rate, faster than the sinus rhythm' },
  morphologyVote: {
    flag: '--no-morphology-vote',
    calls: "V calls whose look-alikes (the stream's earlier beats of the same QRS shape) were mostly called otherwise, and non-V calls whose look-alikes were mostly called V",
  },
};

/** Adds one `--no-...` flag per rule after the model (rulesAfterModel.ts), in the monitor's order; each is on by default. */
export function addRuleOptions(command: Command): Command {
  for (const rule of RULE_NAMES) {
    const { flag, calls } = RULE_FLAGS[rule];
    command.option(flag, `keep the model's ${calls} (by default the live monitor rules the class out and gives the beat its most probable remaining class)`);
  }
  return command;
}
