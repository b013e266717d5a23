/** Formatting of a roster sync's diff and the choice of request for a file. Pure functions,
 * unit-tested in diff.test.ts. */

/** How a value of the diff reads: empty for nothing, yes/no for flags, text otherwise. */
export function showValue(value: unknown, words: { empty: string; yes: string; no: string }): string {
  if (value === null || value === undefined || value === "") return words.empty;
  if (value === true) return words.yes;
  if (value === false) return words.no;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

export interface DiffLine {
  field: string;
  before: string;
  after: string;
  /** Nothing before: a new member's values are shown alone, an update's as `(empty) → x`. */
  added: boolean;
}

/** A change's `{field: [before, after]}` as lines, in a stable order: the name and unit
 * first, then the others alphabetically. */
export function diffLines(
  changes: Record<string, unknown>,
  words: { empty: string; yes: string; no: string },
): DiffLine[] {
  const first = ["full_name", "unit_code", "status", "membership"];
  const rank = (f: string) => (first.includes(f) ? first.indexOf(f) : first.length);
  return Object.keys(changes)
    .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
    .map((field) => {
      const pair = changes[field];
      const [before, after] = Array.isArray(pair) ? pair : [undefined, pair];
      return {
        field,
        before: showValue(before, words),
        after: showValue(after, words),
        added: before === null || before === undefined,
      };
    });
}

/** The body's Content-Type for a roster file, by its extension (what the API chooses the
 * parser by); null for a kind the API does not take as member rows. */
export function contentTypeFor(filename: string): string | null {
  const ext = filename.toLowerCase().split(".").pop() ?? "";
  switch (ext) {
    case "csv":
      return "text/csv";
    case "xlsx":
      return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    case "ndjson":
    case "jsonl":
      return "application/x-ndjson";
    default:
      return null;
  }
}

export interface Counts {
  created: number;
  updated: number;
  moved: number;
  deactivated: number;
  reactivated: number;
  unchanged: number;
  rejected: number;
}

/** What applying changes, for the confirmation: the actions that change something. */
export function effectiveCounts(c: Counts): { action: keyof Counts; count: number }[] {
  return (["created", "updated", "moved", "reactivated", "deactivated"] as const)
    .map((action) => ({ action, count: c[action] }))
    .filter((x) => x.count > 0);
}

/** The guards an apply needs confirmed: skipping rejected rows, a mass deactivation. */
export function guardsFor(sync: { counts: Counts; mass_deactivation: boolean; skip_rejected: boolean; allow_mass_deactivation: boolean }): {
  skipRejected: boolean;
  massDeactivation: boolean;
} {
  return {
    skipRejected: sync.counts.rejected > 0 && !sync.skip_rejected,
    massDeactivation: sync.mass_deactivation && !sync.allow_mass_deactivation,
  };
}
