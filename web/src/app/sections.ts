import type { ReactNode } from "react";
import type { RouteObject } from "react-router";

import type { components } from "../api/schema";

export type Role = components["schemas"]["Role"];

/**
 * One area of the committee workspace (issue 17): its routes, and the navigation entry
 * shown to callers holding one of `roles` (from `/auth/me` grants). Each area exports one
 * `Section` from `features/<area>/section.tsx`; `SECTIONS` (sectionList.ts) lists them.
 * The routes' pages are lazy, so an area's code loads only when it is opened.
 */
export interface Section {
  /** i18n key under `nav.` and a stable id. */
  key: string;
  /** Where the navigation entry points, e.g. "/workspace/members". */
  to: string;
  icon: ReactNode;
  roles: readonly Role[];
  /** Child routes of the signed-in layout (paths relative, e.g. "workspace/members/:id"). */
  routes: RouteObject[];
}

/** Whether a caller holding `roles` sees `section`. */
export function visible(section: Section, roles: ReadonlySet<Role>): boolean {
  return section.roles.some((r) => roles.has(r));
}
