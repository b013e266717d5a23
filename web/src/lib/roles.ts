import type { components } from "../api/schema";
import { usePrincipal } from "./me";

type Role = components["schemas"]["Role"];

/** The roles a principal holds, from `/auth/me` (`roles`, else its grants). */
export function rolesOf(principal: { roles?: readonly Role[]; grants?: readonly { role: Role }[] } | undefined): Set<Role> {
  const roles = new Set<Role>(principal?.roles ?? []);
  for (const g of principal?.grants ?? []) roles.add(g.role);
  return roles;
}

/** What the caller's roles let the screens offer (the server decides each call). */
export function usePowers() {
  const principal = usePrincipal();
  const roles = rolesOf(principal.data);
  const admin = roles.has("admin");
  return {
    principal: principal.data,
    manage: admin || roles.has("manager"),
    handle: admin || roles.has("manager") || roles.has("reviewer"),
  };
}
