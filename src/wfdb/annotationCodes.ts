/**
 * The standard WFDB annotation codes: number, mnemonic symbol (as `rdann` prints it) and description.
 *
 * Codes 1..49 are annotation types (ACMAX = 49); 0 is NOTQRS, used only for "null" annotations.
 * Codes 59..63 never appear as types: in MIT-format files they are pseudo-codes (SKIP, NUM, SUB, CHN, AUX)
 * that modify the annotation before them (see annotations.ts).
 *
 * References: WFDB library, lib/ecgcodes.h (code numbers), lib/annot.c (`cstring`/`tstring` mnemonics and
 * descriptions), lib/ecgmap.h (`isqrs` table); G.B. Moody, WFDB Programmer's Guide, "Annotation Codes".
 * https://physionet.org/physiotools/wpg/wpg_29.htm
 */

/** One row of the WFDB annotation code table. */
export interface AnnotationCodeInfo {
  code: number;
  /** Mnemonic as printed by `rdann` (WFDB `annstr`). */
  symbol: string;
  /** Constant name in WFDB's ecgcodes.h. */
  name: string;
  description: string;
  /** True if the code denotes a QRS complex (WFDB `isqrs`). */
  isBeat: boolean;
}

/** Largest valid annotation type code (WFDB `ACMAX`). */
export const ACMAX = 49;

// code, symbol, ecgcodes.h name, isqrs, description. Rows follow lib/annot.c and lib/ecgmap.h one-to-one;
// codes 15, 17 and 42..49 are unassigned and print as "[n]".
const TABLE: ReadonlyArray<readonly [number, string, string, 0 | 1, string]> = [
  [0, ' ', 'NOTQRS', 0, 'Not-QRS (null annotation)'],
  [1, 'N', 'NORMAL', 1, 'Normal beat'],
  [2, 'L', 'LBBB', 1, 'Left bundle branch block beat'],
  [3, 'R', 'RBBB', 1, 'Right bundle branch block beat'],
  [4, 'a', 'ABERR', 1, 'Aberrated atrial premature beat'],
  [5, 'V', 'PVC', 1, 'Premature ventricular contraction'],
  [6, 'F', 'FUSION', 1, 'Fusion of ventricular and normal beat'],
  [7, 'J', 'NPC', 1, 'Nodal (junctional) premature beat'],
  [8, 'A', 'APC', 1, 'Atrial premature beat'],
  [9, 'S', 'SVPB', 1, 'Supraventricular premature or ectopic beat'],
  [10, 'E', 'VESC', 1, 'Ventricular escape beat'],
  [11, 'j', 'NESC', 1, 'Nodal (junctional) escape beat'],
  [12, '/', 'PACE', 1, 'Paced beat'],
  [13, 'Q', 'UNKNOWN', 1, 'Unclassifiable beat'],
  [14, '~', 'NOISE', 0, 'Change in signal quality'],
  [15, '[15]', '', 0, ''],
  [16, '|', 'ARFCT', 0, 'Isolated QRS-like artifact'],
  [17, '[17]', '', 0, ''],
  [18, 's', 'STCH', 0, 'ST segment change'],
  [19, 'T', 'TCH', 0, 'T-wave change'],
  [20, '*', 'SYSTOLE', 0, 'Systole'],
  [21, 'D', 'DIASTOLE', 0, 'Diastole'],
  [22, '"', 'NOTE', 0, 'Comment annotation'],
  [23, '=', 'MEASURE', 0, 'Measurement annotation'],
  [24, 'p', 'PWAVE', 0, 'P-wave peak'],
  [25, 'B', 'BBB', 1, 'Bundle branch block beat (unspecified)'],
  [26, '^', 'PACESP', 0, '(Non-captured) pacemaker artifact'],
  [27, 't', 'TWAVE', 0, 'T-wave peak'],
  [28, '+', 'RHYTHM', 0, 'Rhythm change'],
  [29, 'u', 'UWAVE', 0, 'U-wave peak'],
  [30, '?', 'LEARN', 1, 'Beat not classified during learning'],
  [31, '!', 'FLWAV', 1, 'Ventricular flutter wave'],
  [32, '[', 'VFON', 0, 'Start of ventricular flutter/fibrillation'],
  [33, ']', 'VFOFF', 0, 'End of ventricular flutter/fibrillation'],
  [34, 'e', 'AESC', 1, 'Atrial escape beat'],
  [35, 'n', 'SVESC', 1, 'Supraventricular escape beat'],
  [36, '@', 'LINK', 0, 'Link to external data (aux contains URL)'],
  [37, 'x', 'NAPC', 0, 'Non-conducted P-wave (blocked APC)'],
  [38, 'f', 'PFUS', 1, 'Fusion of paced and normal beat'],
  [39, '(', 'WFON', 0, 'Waveform onset'],
  [40, ')', 'WFOFF', 0, 'Waveform end'],
  [41, 'r', 'RONT', 1, 'R-on-T premature ventricular contraction'],
];

/** The table, indexed by code 0..ACMAX (unassigned codes included, with symbol "[n]"). */
export const ANNOTATION_CODES: readonly AnnotationCodeInfo[] = Array.from({ length: ACMAX + 1 }, (_, code) => {
  const row = TABLE[code];
  return row
    ? { code, symbol: row[1], name: row[2], description: row[4], isBeat: row[3] === 1 }
    : { code, symbol: `[${code}]`, name: '', description: '', isBeat: false };
});

/** Named codes, as in ecgcodes.h (e.g. `ANN.NORMAL === 1`, `ANN.VFON === 32`). */
export const ANN = Object.freeze(
  Object.fromEntries(TABLE.filter((r) => r[2] !== '').map((r) => [r[2], r[0]])) as Record<
    | 'NOTQRS' | 'NORMAL' | 'LBBB' | 'RBBB' | 'ABERR' | 'PVC' | 'FUSION' | 'NPC' | 'APC' | 'SVPB' | 'VESC' | 'NESC'
    | 'PACE' | 'UNKNOWN' | 'NOISE' | 'ARFCT' | 'STCH' | 'TCH' | 'SYSTOLE' | 'DIASTOLE' | 'NOTE' | 'MEASURE' | 'PWAVE'
    | 'BBB' | 'PACESP' | 'TWAVE' | 'RHYTHM' | 'UWAVE' | 'LEARN' | 'FLWAV' | 'VFON' | 'VFOFF' | 'AESC' | 'SVESC'
    | 'LINK' | 'NAPC' | 'PFUS' | 'WFON' | 'WFOFF' | 'RONT',
    number
  >,
);

const SYMBOL_TO_CODE = new Map<string, number>(ANNOTATION_CODES.slice(1).map((c) => [c.symbol, c.code]));

/** Mnemonic for a code, as `rdann` prints it; codes outside 0..ACMAX print as "[n]" (WFDB `annstr`). */
export function codeToSymbol(code: number): string {
  return code >= 0 && code <= ACMAX ? ANNOTATION_CODES[code]!.symbol : `[${code}]`;
}

/** Code for a mnemonic (WFDB `strann`); 0 (NOTQRS) if the mnemonic is unknown. */
export function symbolToCode(symbol: string): number {
  return SYMBOL_TO_CODE.get(symbol) ?? 0;
}

/**
 * True if the code denotes a QRS complex (a beat), per WFDB's `isqrs` table (lib/ecgmap.h):
 * N L R a V F J A S E j / Q B ? ! e n f r. Rhythm (+), noise (~), comment ("), flutter onset/offset ([ ]) are not beats;
 * the flutter wave `!` is.
 */
export function isBeatCode(code: number): boolean {
  return code > 0 && code <= ACMAX && ANNOTATION_CODES[code]!.isBeat;
}
