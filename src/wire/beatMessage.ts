/**
 * The beat message: what the monitor sends about each beat, on stdout as NDJSON today, the same object on WebSocket
 * and MQTT. One zod schema is the type (`BeatMessage`), the validator and the documentation; every message is checked
 * when it is written (`encodeBeatMessage`) and when it is read (`decodeBeatMessage`), so a malformed message never
 * leaves the process and a consumer gets a clear error, not a silent `undefined`.
 *
 * Versioned: `version` is WIRE_VERSION. A field may be added in a later minor change only as optional; anything a
 * version-1 reader would misread bumps the version, and a reader refuses versions it does not know.
 *
 * ```json
 * {"version":1,"type":"beat","streamId":"mitdb/100","sampleIndex":370,"fsHz":360,"beatClass":"N",
 *  "probabilities":[0.9812,0.0101,0.0071,0.0016,0],"atrialFibrillation":false,"model":"mshan-inter"}
 * ```
 */
import { z } from 'zod';
import { WireFormatError } from '../errors.js';
import { BEAT_CLASSES, type BeatClassification, type BeatWindow } from '../types.js';

export const WIRE_VERSION = 1;

const beatClass = z.enum(BEAT_CLASSES as unknown as [string, ...string[]]);
const milliseconds = z.number().finite().nonnegative();

export const beatMessageSchema = z
  .object({
    version: z.literal(WIRE_VERSION),
    type: z.literal('beat'),
    /** The stream the beat belongs to (a record, a bedside device). */
    streamId: z.string().min(1),
    /** R-peak sample index in the stream, at `fsHz`. */
    sampleIndex: z.number().int().nonnegative(),
    fsHz: z.number().finite().positive(),
    /** RR intervals around the beat (beats detected but not classified). */
    rr: z.object({ previousRrMs: milliseconds, nextRrMs: milliseconds, localMeanRrMs: milliseconds, recordMeanRrMs: milliseconds, localVariationRrMs: milliseconds }).strict().optional(),
    /** The monitor's class (AAMI), after the rules that may overrule the model. */
    beatClass: beatClass.optional(),
    /** The model's own class, present only where a rule changed it. */
    modelClass: beatClass.optional(),
    /** The model's softmax output in N S V F Q order, rounded to 4 decimals. */
    probabilities: z.array(z.number().finite().min(0).max(1)).length(BEAT_CLASSES.length).optional(),
    /** Whether the rhythm around the beat is atrial fibrillation (detectAtrialFibrillation). */
    atrialFibrillation: z.boolean().optional(),
    /** Name of the model that classified the beat. */
    model: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    const classified = m.beatClass !== undefined;
    if (classified && (m.probabilities === undefined || m.model === undefined)) ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'a classified beat carries probabilities and model' });
    if (!classified && (m.probabilities !== undefined || m.modelClass !== undefined)) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['beatClass'], message: 'probabilities or modelClass without beatClass' });
    if (m.modelClass !== undefined && m.modelClass === m.beatClass) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['modelClass'], message: 'modelClass is sent only where a rule changed the class' });
    if (m.probabilities && Math.abs(m.probabilities.reduce((a, b) => a + b, 0) - 1) > 0.01) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['probabilities'], message: 'must sum to 1' });
    if (!classified && m.rr === undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['rr'], message: 'a beat that is not classified carries its RR intervals' });
  });

export type BeatMessage = z.infer<typeof beatMessageSchema>;

/** The message of a classified beat. */
export function classifiedBeatMessage(c: BeatClassification): BeatMessage {
  return {
    version: WIRE_VERSION, type: 'beat', streamId: c.streamId, sampleIndex: c.sampleIndex, fsHz: c.fsHz, beatClass: c.beatClass,
    ...(c.modelClass !== undefined && c.modelClass !== c.beatClass ? { modelClass: c.modelClass } : {}),
    probabilities: c.probabilities.map((p) => Number(p.toFixed(4))), atrialFibrillation: c.rhythm?.atrialFibrillation ?? false, model: c.model,
  };
}

/** The message of a beat detected but not classified (`serve --no-classify`). */
export function detectedBeatMessage(b: Pick<BeatWindow, 'streamId' | 'sampleIndex' | 'fsHz' | 'rr'>): BeatMessage {
  return { version: WIRE_VERSION, type: 'beat', streamId: b.streamId, sampleIndex: b.sampleIndex, fsHz: b.fsHz, rr: { ...b.rr } };
}

/** Checks `message` against the schema and returns its JSON text (one line); WireFormatError if it does not follow it. */
export function encodeBeatMessage(message: BeatMessage): string {
  return JSON.stringify(check(message, 'outgoing beat message'));
}

/** Parses and checks one message (a JSON text); WireFormatError naming each bad field otherwise. */
export function decodeBeatMessage(text: string): BeatMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new WireFormatError('ECG_ERR_BAD_MESSAGE', `beat message: not JSON (${(error as Error).message})`, { cause: error });
  }
  return check(value, 'beat message');
}

function check(value: unknown, what: string): BeatMessage {
  const result = beatMessageSchema.safeParse(value);
  if (result.success) return result.data;
  const version = typeof value === 'object' && value !== null ? (value as { version?: unknown }).version : undefined;
  if (version !== WIRE_VERSION) {
    const found = version === undefined ? 'no version' : `version ${JSON.stringify(version)}`;
    throw new WireFormatError('ECG_ERR_BAD_MESSAGE', `${what}: ${found}, this monitor reads version ${WIRE_VERSION}`);
  }
  const issues = result.error.issues.map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`);
  throw new WireFormatError('ECG_ERR_BAD_MESSAGE', `${what}: ${issues.join('; ')}`);
}
