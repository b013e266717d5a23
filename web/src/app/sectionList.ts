import { adminSection } from "../features/admin/section";
import { guidanceSection } from "../features/guidance/section";
import { rosterSyncSection } from "../features/roster/section";
import { statsSection } from "../features/stats/section";
import type { Section } from "./sections";

/** The committee workspace's areas, in navigation order (see sections.ts). */
export const SECTIONS: readonly Section[] = [guidanceSection, statsSection, rosterSyncSection, adminSection];
