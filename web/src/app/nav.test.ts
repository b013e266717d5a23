import { describe, expect, it } from "vitest";

import { rolesOf, sectionsFor } from "./nav";
import type { Section } from "./sections";

const section = (key: string, roles: Section["roles"]): Section => ({ key, to: `/workspace/${key}`, icon: null, roles, routes: [] });
const ALL = [
  section("members", ["manager", "reviewer"]),
  section("review", ["manager"]),
  section("stats", ["manager", "reviewer", "analyst"]),
  section("sync", ["partner"]),
];
const keys = (s: Section[]) => s.map((x) => x.key);

describe("role-aware navigation", () => {
  it("gives a plain member no workspace entry", () => {
    expect(sectionsFor(ALL, rolesOf({ roles: ["member"], grants: [] }))).toEqual([]);
    expect(sectionsFor(ALL, rolesOf(undefined))).toEqual([]);
  });
  it("shows a reviewer what reviewers may open, in registry order", () => {
    expect(keys(sectionsFor(ALL, rolesOf({ roles: ["reviewer"], grants: [] })))).toEqual(["members", "stats"]);
  });
  it("shows an analyst statistics only", () => {
    expect(keys(sectionsFor(ALL, rolesOf({ grants: [{ role: "analyst" }] })))).toEqual(["stats"]);
  });
  it("shows an admin every section, even one not listing admin", () => {
    expect(keys(sectionsFor(ALL, rolesOf({ roles: ["admin"], grants: [] })))).toEqual(["members", "review", "stats", "sync"]);
  });
  it("joins the roles of several grants", () => {
    const roles = rolesOf({ roles: ["member"], grants: [{ role: "reviewer" }, { role: "manager" }] });
    expect(keys(sectionsFor(ALL, roles))).toEqual(["members", "review", "stats"]);
  });
});
