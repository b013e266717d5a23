import type { Role, Section } from "./sections";
import { visible } from "./sections";

export { rolesOf } from "../lib/roles";

/** The workspace sections a caller sees, in registry order: an admin sees every one,
 * anyone else those their roles open (`visible`). The server still decides each call. */
export function sectionsFor(sections: readonly Section[], roles: ReadonlySet<Role>): Section[] {
  if (roles.has("admin")) return [...sections];
  return sections.filter((s) => visible(s, roles));
}
