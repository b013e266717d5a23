import { describe, expect, it } from "vitest";

import { contentTypeFor, diffLines, effectiveCounts, guardsFor, showValue } from "./diff";

const words = { empty: "∅", yes: "có", no: "không" };

describe("roster diff", () => {
  it("shows values: empty, flags and text", () => {
    expect(showValue(null, words)).toBe("∅");
    expect(showValue("", words)).toBe("∅");
    expect(showValue(true, words)).toBe("có");
    expect(showValue(false, words)).toBe("không");
    expect(showValue("Nguyễn Văn An", words)).toBe("Nguyễn Văn An");
    expect(showValue(3, words)).toBe("3");
  });

  it("lists the name and unit first, then the other fields alphabetically", () => {
    const lines = diffLines(
      { phone: ["0912", "0913"], unit_code: ["HN.BD.CB01", "HN.BD.CB02"], full_name: [null, "Lê Văn Tám"], is_leader: [false, true] },
      words,
    );
    expect(lines.map((l) => l.field)).toEqual(["full_name", "unit_code", "is_leader", "phone"]);
    expect(lines[0]).toEqual({ field: "full_name", before: "∅", after: "Lê Văn Tám", added: true });
    expect(lines[1]).toEqual({ field: "unit_code", before: "HN.BD.CB01", after: "HN.BD.CB02", added: false });
    expect(lines[2]).toMatchObject({ before: "không", after: "có" });
  });

  it("picks the Content-Type by extension", () => {
    expect(contentTypeFor("Danh sach.CSV")).toBe("text/csv");
    expect(contentTypeFor("roster.xlsx")).toMatch(/spreadsheetml/);
    expect(contentTypeFor("rows.ndjson")).toBe("application/x-ndjson");
    expect(contentTypeFor("rows.jsonl")).toBe("application/x-ndjson");
    expect(contentTypeFor("notes.docx")).toBeNull();
  });

  it("summarises what applying changes and which guards need confirming", () => {
    const counts = { created: 2, updated: 0, moved: 1, deactivated: 5, reactivated: 0, unchanged: 9, rejected: 1 };
    expect(effectiveCounts(counts)).toEqual([
      { action: "created", count: 2 },
      { action: "moved", count: 1 },
      { action: "deactivated", count: 5 },
    ]);
    expect(guardsFor({ counts, mass_deactivation: true, skip_rejected: false, allow_mass_deactivation: false })).toEqual({
      skipRejected: true,
      massDeactivation: true,
    });
    expect(
      guardsFor({ counts: { ...counts, rejected: 0 }, mass_deactivation: true, skip_rejected: false, allow_mass_deactivation: true }),
    ).toEqual({ skipRejected: false, massDeactivation: false });
  });
});
