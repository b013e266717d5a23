import { adminSection } from "../features/admin/section";
import { caseworkSection } from "../features/casework/section";
import { guidanceSection } from "../features/guidance/section";
import { membersSection } from "../features/members/section";
import { reviewSection } from "../features/review/section";
import { rosterSyncSection } from "../features/roster/section";
import { statsSection } from "../features/stats/section";
import { unitsSection } from "../features/units/section";
import type { Section } from "./sections";

/** The committee workspace's areas, in navigation order (see sections.ts). */
export const SECTIONS: readonly Section[] = [
  membersSection,
  unitsSection,
  reviewSection,
  caseworkSection,
  guidanceSection,
  statsSection,
  rosterSyncSection,
  adminSection,
];
