/** Dates as dd/mm/yyyy and times as HH:mm, in Vietnam time, whatever the device's zone. */
const ZONE = "Asia/Ho_Chi_Minh";

function parts(iso: string, withTime: boolean): Record<string, string> {
  const fmt = new Intl.DateTimeFormat("en-GB", {
    timeZone: ZONE, day: "2-digit", month: "2-digit", year: "numeric",
    ...(withTime ? { hour: "2-digit", minute: "2-digit", hourCycle: "h23" } : {}),
  });
  return Object.fromEntries(fmt.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
}

export function formatDate(iso: string | null | undefined): string {
  if (!iso) return "";
  // A calendar date (2023-03-20) has no zone: show it as written.
  const plain = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (plain) return `${plain[3]}/${plain[2]}/${plain[1]}`;
  const p = parts(iso, false);
  return `${p.day}/${p.month}/${p.year}`;
}

export function formatDateTime(iso: string | null | undefined): string {
  if (!iso) return "";
  const p = parts(iso, true);
  return `${p.day}/${p.month}/${p.year} ${p.hour}:${p.minute}`;
}

export function formatBytes(size: number, lang: string): string {
  const nf = new Intl.NumberFormat(lang === "vi" ? "vi-VN" : "en-GB", { maximumFractionDigits: 1 });
  if (size < 1024) return `${nf.format(size)} B`;
  if (size < 1024 * 1024) return `${nf.format(size / 1024)} KB`;
  return `${nf.format(size / 1024 / 1024)} MB`;
}
