/** Scales and shapes for the statistics charts (hand-written SVG: no chart library, so the
 * statistics chunk stays small). Pure functions, unit-tested in chart.test.ts. */

/** The smallest "nice" number (1, 2, 2.5 or 5 × 10^n) at or above `value`; 1 for 0 or less. */
export function niceCeil(value: number): number {
  if (!(value > 0)) return 1;
  const exp = Math.floor(Math.log10(value));
  const base = 10 ** exp;
  for (const step of [1, 2, 2.5, 5, 10]) {
    const candidate = step * base;
    if (candidate >= value - 1e-9) return Number(candidate.toPrecision(12));
  }
  return 10 * base;
}

/** `count` + 1 evenly spaced ticks from 0 to `max` inclusive. */
export function ticks(max: number, count = 4): number[] {
  return Array.from({ length: count + 1 }, (_, i) => Number(((max * i) / count).toPrecision(12)));
}

/** A linear scale from [0, domainMax] onto [rangeStart, rangeEnd]. */
export function linear(domainMax: number, rangeStart: number, rangeEnd: number): (v: number) => number {
  const span = domainMax || 1;
  return (v) => rangeStart + ((rangeEnd - rangeStart) * v) / span;
}

export interface SeriesPoint {
  period_start: string;
  key: string;
  count: number;
}

/** Totals per period (the series' keys summed), in time order. */
export function totalsByPeriod(points: readonly SeriesPoint[]): { period: string; count: number }[] {
  const sums = new Map<string, number>();
  for (const p of points) sums.set(p.period_start, (sums.get(p.period_start) ?? 0) + p.count);
  return [...sums.entries()]
    .sort(([a], [b]) => Date.parse(a) - Date.parse(b))
    .map(([period, count]) => ({ period, count }));
}

/** Totals per key over the whole range, largest first (ties by key). */
export function totalsByKey(points: readonly SeriesPoint[]): { key: string; count: number }[] {
  const sums = new Map<string, number>();
  for (const p of points) sums.set(p.key, (sums.get(p.key) ?? 0) + p.count);
  return [...sums.entries()]
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));
}

/** A fraction 0–1 as a whole percentage in the user's language; "—" when undefined. */
export function formatRate(rate: number | null | undefined, lang: string): string {
  if (rate === null || rate === undefined) return "—";
  return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", {
    style: "percent",
    maximumFractionDigits: 1,
  }).format(rate);
}

/** A count with the thousands separator of the user's language ("." in vi). */
export function formatCount(n: number, lang: string): string {
  return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB").format(n);
}

/** Hours as a short figure ("12,5" in vi); "—" when nothing was resolved. */
export function formatHours(hours: number | null | undefined, lang: string): string {
  if (hours === null || hours === undefined) return "—";
  return new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 }).format(hours);
}
