import { identity, pipe, type OperatorFunction } from 'rxjs';
import type { BeatClassification } from '../types.js';
import { detectAtrialFibrillation } from './detectAtrialFibrillation.js';
import { gateSvebInAtrialFibrillation } from './gateSvebInAtrialFibrillation.js';
import { gateVebByTemplate } from './gateVebByTemplate.js';
import { gateVebByTiming } from './gateVebByTiming.js';

/** Which of the rules after the model run (each defaults to on in `serve` and `eval beats`). */
export interface MonitorRules {
  afGate: boolean;
  templateGate: boolean;
  timingGate: boolean;
}

/**
 * The rules that may overrule the model, in the order the monitor runs them, each one stage: the AF gate (rhythm
 * first, then the S gate it drives), then the template gate, then the timing gate. The one list `serve` (through {@link rulesAfterModel})
 * and `eval beats` (stage by stage, to count what each changed) both run.
 */
export function ruleStages(rules: MonitorRules): { rule: keyof MonitorRules; stage: OperatorFunction<BeatClassification, BeatClassification> }[] {
  return [
    ...(rules.afGate ? [{ rule: 'afGate' as const, stage: pipe(detectAtrialFibrillation(), gateSvebInAtrialFibrillation()) }] : []),
    ...(rules.templateGate ? [{ rule: 'templateGate' as const, stage: gateVebByTemplate() }] : []),
    ...(rules.timingGate ? [{ rule: 'timingGate' as const, stage: gateVebByTiming() }] : []),
  ];
}

/**
 * The monitor's stage after classifyBeats: every beat gets its rhythm (detectAtrialFibrillation, also with the AF gate
 * off, for the `atrialFibrillation` flag on the wire), then the rules that are on.
 */
export function rulesAfterModel(rules: MonitorRules): OperatorFunction<BeatClassification, BeatClassification> {
  return (beats$) => ruleStages(rules).reduce((out$, { stage }) => out$.pipe(stage), beats$.pipe(rules.afGate ? identity : detectAtrialFibrillation()));
}
