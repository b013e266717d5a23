/** `<input type="datetime-local">` values (wall time, no zone) as Vietnam time and back:
 * the API takes RFC 3339 with an offset, the page shows Vietnam time whatever the device. */
export function localToRfc3339(value: string | undefined | null): string | null {
  if (!value) return null;
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(?::\d{2})?$/.exec(value);
  return m ? `${m[1]}T${m[2]}:00+07:00` : null;
}

export function rfc3339ToLocal(iso: string | null | undefined): string {
  if (!iso) return "";
  const shifted = new Date(Date.parse(iso) + 7 * 3600_000); // Vietnam has no DST
  return shifted.toISOString().slice(0, 16);
}
