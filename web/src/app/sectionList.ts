import { caseworkSection } from "../features/casework/section";
import { membersSection } from "../features/members/section";
import { reviewSection } from "../features/review/section";
import { unitsSection } from "../features/units/section";
import type { Section } from "./sections";

/** The committee workspace's areas, in navigation order (see sections.ts). */
export const SECTIONS: readonly Section[] = [membersSection, unitsSection, reviewSection, caseworkSection];
