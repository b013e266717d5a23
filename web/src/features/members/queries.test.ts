import { describe, expect, it } from "vitest";

import { changedFields, filtersFromParams, paramsFromFilters } from "./queries";

describe("members list filters in the URL", () => {
  it("reads every filter and drops empty or unknown values", () => {
    const f = filtersFromParams(new URLSearchParams("q=%20nguyen%20van%20&unit=u1&status=active&leader=true&declaration=declared&x=1&membership="));
    expect(f).toEqual({ q: "nguyen van", unit_id: "u1", status: "active", is_leader: true, declaration: "declared" });
    expect(filtersFromParams(new URLSearchParams("leader=maybe"))).toEqual({});
  });
  it("round-trips through the search parameters", () => {
    const f = { q: "an", membership: "official" as const, is_leader: false };
    expect(filtersFromParams(paramsFromFilters(f))).toEqual(f);
  });
});

describe("changedFields", () => {
  const member = { full_name: "Nguyễn Văn An", position: null as string | null, is_leader: false, email: "a@b.vn" };
  it("keeps only what changed; an emptied text field becomes null", () => {
    expect(changedFields(member, { full_name: "Nguyễn Văn An", position: "Bí thư", is_leader: false, email: "" })).toEqual({
      position: "Bí thư",
      email: null,
    });
  });
  it("is empty when nothing changed", () => {
    expect(changedFields(member, { ...member })).toEqual({});
  });
});
