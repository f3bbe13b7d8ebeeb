import { pipe, type OperatorFunction } from 'rxjs';
import type { BeatClassification } from '../types.js';
import { detectAtrialFibrillation } from './detectAtrialFibrillation.js';
import { gateNormalInAtrialRun } from './gateNormalInAtrialRun.js';
import { gateSvebByPWave } from './gateSvebByPWave.js';
import { gateSvebByQrs } from './gateSvebByQrs.js';
import { gateSvebInAtrialFibrillation } from './gateSvebInAtrialFibrillation.js';
import { gateVebByMorphology } from './gateVebByMorphology.js';
import { gateVebByTemplate } from './gateVebByTemplate.js';
import { gateVebByTiming } from './gateVebByTiming.js';

type Stage = OperatorFunction<BeatClassification, BeatClassification>;

/**
 * The rules that may overrule the model, in the order the monitor runs them, each one stage: the S gates (AF, with the
 * rhythm detection it needs first, P wave, QRS), then the V gates (template, timing), then the atrial run gate, then
 * the morphology vote. The first five each rule their class out whatever the beat's class
 * (ruleOutClass.ts), so which classes a beat is left with does not depend on their order; it matters only through the
 * past beats' classes each gate keeps (its usual beat, the class before). The atrial run gate comes after them
 * because it reads what they left: it turns N into S only where no rule ruled S out. The morphology vote comes last
 * because it weighs the classes all the others left on the earlier beats of the same QRS shape.
 */
const STAGES = {
  afGate: () => pipe(detectAtrialFibrillation(), gateSvebInAtrialFibrillation()),
  pWaveGate: () => gateSvebByPWave(),
  qrsGate: () => gateSvebByQrs(),
  templateGate: () => gateVebByTemplate(),
  timingGate: () => gateVebByTiming(),
  atrialRunGate: () => gateNormalInAtrialRun(),
  morphologyVote: () => gateVebByMorphology(),
} satisfies Record<string, () => Stage>;

export type RuleName = keyof typeof STAGES;

/** The rules' names, in the order the monitor runs them; each is a `--no-...` flag of `serve` and `eval beats`. */
export const RULE_NAMES = Object.keys(STAGES) as RuleName[];

/** Which of the rules after the model run (each on by default in `serve` and `eval beats`). */
export type MonitorRules = Record<RuleName, boolean>;

/**
 * The rules of `flags` (an options object with one boolean per rule, as commander makes from the `--no-...` flags),
 * missing ones on.
 */
export function monitorRules(flags: Partial<MonitorRules> = {}): MonitorRules {
  return Object.fromEntries(RULE_NAMES.map((rule) => [rule, flags[rule] ?? true])) as MonitorRules;
}

/**
 * The stages of the rules that are on, in the monitor's order. The one list `serve` (through
 * {@link rulesAfterModel}) and `eval beats` (stage by stage, to count what each changed) both run. The rhythm is
 * judged before any rule, also with the AF gate off (the template gate's AF threshold reads it): then the first
 * stage detects it, which changes no class.
 */
export function ruleStages(rules: MonitorRules): { rule: RuleName; stage: Stage }[] {
  const stages = RULE_NAMES.filter((rule) => rules[rule]).map((rule) => ({ rule, stage: STAGES[rule]() }));
  if (!rules.afGate && stages.length > 0) stages[0] = { rule: stages[0].rule, stage: pipe(detectAtrialFibrillation(), stages[0].stage) };
  return stages;
}

/**
 * The monitor's stage after classifyBeats: every beat gets its rhythm (detectAtrialFibrillation, also with every rule
 * off, for the `atrialFibrillation` flag on the wire), then the rules that are on.
 */
export function rulesAfterModel(rules: MonitorRules): Stage {
  return (beats$) => {
    const stages = ruleStages(rules);
    return stages.length === 0 ? beats$.pipe(detectAtrialFibrillation()) : stages.reduce((out$, { stage }) => out$.pipe(stage), beats$);
  };
}
