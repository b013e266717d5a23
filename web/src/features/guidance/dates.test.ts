import { describe, expect, it } from "vitest";

import { localToRfc3339, rfc3339ToLocal } from "./dates";

describe("acknowledgement deadline in Vietnam time", () => {
  it("reads a wall time as UTC+7", () => {
    expect(localToRfc3339("2026-12-31T17:00")).toBe("2026-12-31T17:00:00+07:00");
    expect(localToRfc3339("")).toBeNull();
    expect(localToRfc3339("31/12/2026")).toBeNull();
  });

  it("shows an instant as the wall time in Vietnam", () => {
    expect(rfc3339ToLocal("2026-12-31T10:00:00Z")).toBe("2026-12-31T17:00");
    expect(rfc3339ToLocal("2026-12-31T20:30:00Z")).toBe("2027-01-01T03:30");
    expect(rfc3339ToLocal(null)).toBe("");
  });
});
