import type { BeatClass } from '../types.js';

/**
 * MIT-BIH beat annotation symbols grouped into the AAMI EC57 classes, as the literature since de Chazal 2004 does:
 * escape beats (e, j) count as N. PhysioNet's bxb counts them (and n) as SVEB instead; src/eval reports both maps.
 * Symbols not listed (B, r, n, ?, ! and every non-beat annotation) are not AAMI-labelled beats and are left out.
 *
 * References: ANSI/AAMI EC57:1998/(R)2008, Testing and reporting performance results of cardiac rhythm and ST segment
 * measurement algorithms. de Chazal P, O'Dwyer M, Reilly RB. IEEE TBME 2004;51(7):1196-1206. doi:10.1109/TBME.2004.827359
 */
export const AAMI_CLASS_OF_SYMBOL: Readonly<Record<string, BeatClass>> = {
  N: 'N', L: 'N', R: 'N', e: 'N', j: 'N', // normal, bundle branch blocks, atrial and nodal escape
  A: 'S', a: 'S', J: 'S', S: 'S', // atrial premature, aberrated APC, nodal premature, supraventricular premature
  V: 'V', E: 'V', // premature ventricular contraction, ventricular escape
  F: 'F', // fusion of ventricular and normal
  '/': 'Q', f: 'Q', Q: 'Q', // paced, fusion of paced and normal, unclassifiable
};

/** The AAMI class of an annotation symbol, or undefined when the symbol is not an AAMI-labelled beat. */
export function aamiClassOf(symbol: string): BeatClass | undefined {
  return Object.hasOwn(AAMI_CLASS_OF_SYMBOL, symbol) ? AAMI_CLASS_OF_SYMBOL[symbol] : undefined;
}

/** Records with paced beats, left out of AAMI training and testing as EC57 recommends. */
export const PACED_RECORDS: readonly string[] = ['102', '104', '107', '217'];

/**
 * de Chazal's inter-patient split of the 44 non-paced MIT-BIH records: train on DS1, test on DS2.
 * References: de Chazal P, O'Dwyer M, Reilly RB, IEEE TBME 2004 (Table I).
 */
export const DS1_RECORDS: readonly string[] = [
  '101', '106', '108', '109', '112', '114', '115', '116', '118', '119', '122', '124', '201', '203', '205', '207', '208', '209', '215', '220', '223', '230',
];
export const DS2_RECORDS: readonly string[] = [
  '100', '103', '105', '111', '113', '117', '121', '123', '200', '202', '210', '212', '213', '214', '219', '221', '222', '228', '231', '232', '233', '234',
];

/** The five beat types of the MSHAN reference notebook (not AAMI classes): normal, LBBB, RBBB, APC, PVC. */
export const SEED_SYMBOLS: readonly string[] = ['N', 'L', 'R', 'A', 'V'];
