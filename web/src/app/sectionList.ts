import type { Section } from "./sections";

/** The committee workspace's areas, in navigation order (see sections.ts). */
export const SECTIONS: readonly Section[] = [];
