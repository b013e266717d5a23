/** Scales and shapes for the statistics charts (hand-written SVG: no chart library, so the
 * statistics chunk stays small). Pure functions, unit-tested in chart.test.ts. */

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

/** An axis for counts: whole-number ticks, about four steps of 1, 2 or 5 × 10^n. */
export function countAxis(max: number): { max: number; ticks: number[] } {
  const raw = Math.max(1, max / 4);
  const base = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * base).find((s) => s >= raw) ?? 10 * base;
  const top = Math.max(step, Math.ceil(max / step) * step);
  const out: number[] = [];
  for (let v = 0; v <= top + 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return { max: top, ticks: out };
}

const VN_OFFSET = 7 * 3600_000; // Vietnam time, UTC+7 all year

/** Every period start (as UTC ISO strings) from the one holding `from` up to `to`
 * (exclusive): days, weeks from Monday, or calendar months, in Vietnam time, as the API
 * cuts them. The API lists only periods that have reports; the chart needs them all. */
export function periodStarts(from: string, to: string, interval: "day" | "week" | "month"): string[] {
  const end = Date.parse(to);
  const local = new Date(Date.parse(from) + VN_OFFSET); // wall time read through UTC getters
  let y = local.getUTCFullYear();
  let m = local.getUTCMonth();
  let d = local.getUTCDate();
  if (interval === "week") d -= (local.getUTCDay() + 6) % 7; // back to Monday
  if (interval === "month") d = 1;
  const out: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const start = Date.UTC(y, m, d) - VN_OFFSET;
    if (start >= end) break;
    out.push(new Date(start).toISOString());
    if (interval === "day") d += 1;
    else if (interval === "week") d += 7;
    else m += 1;
    const next = new Date(Date.UTC(y, m, d)); // normalise overflowed days and months
    y = next.getUTCFullYear();
    m = next.getUTCMonth();
    d = next.getUTCDate();
  }
  return out;
}

/** The totals per period with the empty periods as zero, in time order. */
export function filledTotals(
  points: readonly SeriesPoint[],
  from: string,
  to: string,
  interval: "day" | "week" | "month",
): { period: string; count: number }[] {
  const byTime = new Map(totalsByPeriod(points).map((p) => [Date.parse(p.period), p.count]));
  const filled = periodStarts(from, to, interval).map((period) => ({ period, count: byTime.get(Date.parse(period)) ?? 0 }));
  // A point the API placed outside the computed periods is kept rather than dropped.
  const known = new Set(filled.map((p) => Date.parse(p.period)));
  for (const [time, count] of byTime) if (!known.has(time)) filled.push({ period: new Date(time).toISOString(), count });
  return filled.sort((a, b) => Date.parse(a.period) - Date.parse(b.period));
}
