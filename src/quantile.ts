/** The q-quantile (0..1) of sorted values, linear between order statistics (R's type 7, numpy's default). */
export function quantile(sorted: readonly number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  return sorted[lo] + (h - lo) * ((sorted[Math.min(lo + 1, sorted.length - 1)] ?? sorted[lo]) - sorted[lo]);
}

/** The median of values in any order (NaN for none). */
export function median(values: readonly number[]): number {
  return values.length === 0 ? NaN : quantile([...values].sort((a, b) => a - b), 0.5);
}
