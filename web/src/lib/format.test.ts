import { describe, expect, it } from "vitest";

import { formatDate, formatDateTime } from "./format";

describe("dates in Vietnam time", () => {
  it("shows dd/mm/yyyy HH:mm at UTC+7", () => {
    expect(formatDateTime("2026-12-31T17:00:00Z")).toBe("01/01/2027 00:00");
    expect(formatDate("2026-12-31T17:00:00Z")).toBe("01/01/2027");
  });
  it("keeps a calendar date as written", () => {
    expect(formatDate("2023-03-20")).toBe("20/03/2023");
  });
});
