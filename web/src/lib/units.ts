import { useQuery } from "@tanstack/react-query";

import { api, unwrap, type paths } from "../api";
import { usePrincipal } from "./me";

export type Unit = paths["/api/v1/units/{unit_id}"]["get"]["responses"][200]["content"]["application/json"];

/** One node of a lazily loaded unit tree (antd Tree / TreeSelect data). */
export interface UnitNode {
  key: string;
  value: string;
  title: string;
  isLeaf: boolean;
  children?: UnitNode[];
  unit: Unit;
}

export const unitLabel = (u: Pick<Unit, "code" | "name">) => `${u.code} · ${u.name}`;

export function toNode(unit: Unit): UnitNode {
  // A party cell's groups are rarely modelled; a group never has children.
  return { key: unit.id, value: unit.id, title: unitLabel(unit), isLeaf: unit.level === "group", unit };
}

/** Every child of a unit, page after page (a unit has tens of children, rarely hundreds). */
export async function fetchChildren(parentId: string): Promise<Unit[]> {
  const all: Unit[] = [];
  let cursor: string | undefined;
  do {
    const page = await unwrap(
      api.client.GET("/api/v1/units", { params: { query: { parent_id: parentId, limit: 200, cursor } } }),
    );
    all.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return all;
}

/** Put `children` under the node `key` of a tree, returning a new tree. */
export function withChildren(nodes: UnitNode[], key: string, children: UnitNode[]): UnitNode[] {
  return nodes.map((n) => {
    if (n.key === key) return { ...n, children, isLeaf: children.length === 0 };
    if (n.children) return { ...n, children: withChildren(n.children, key, children) };
    return n;
  });
}

/** The roots of the caller's scope: the units of their grants (an admin's unit-less grant
 * is the whole tree: the central units). Nested grants keep only the outermost unit when
 * both are grant units (the server scopes every call anyway). */
export function useScopeRoots() {
  const principal = usePrincipal();
  const grants = principal.data?.grants ?? [];
  const whole = grants.some((g) => g.unit_id === null && g.role !== "member");
  const ids = [...new Set(grants.filter((g) => g.role !== "member" && g.unit_id).map((g) => g.unit_id as string))].sort();
  return useQuery({
    queryKey: ["units", "roots", whole, ids],
    enabled: principal.isSuccess,
    staleTime: 5 * 60_000,
    queryFn: async (): Promise<Unit[]> => {
      if (whole) {
        const page = await unwrap(api.client.GET("/api/v1/units", { params: { query: { level: "central", limit: 200 } } }));
        return page.items;
      }
      const units = await Promise.all(
        ids.map((id) => unwrap(api.client.GET("/api/v1/units/{unit_id}", { params: { path: { unit_id: id } } }))),
      );
      const own = new Set(units.map((u) => u.id));
      // A grant unit whose parent is also a grant unit is reached through it.
      return units.filter((u) => !u.parent_id || !own.has(u.parent_id));
    },
  });
}
