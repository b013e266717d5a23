import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, ifMatch, nextCursor, unwrap, type paths } from "../../api";

type ListQuery = NonNullable<paths["/api/v1/members"]["get"]["parameters"]["query"]>;
export type Member = paths["/api/v1/members/{member_id}"]["get"]["responses"][200]["content"]["application/json"];
export type MemberCreate = paths["/api/v1/members"]["post"]["requestBody"]["content"]["application/json"];
export type MemberUpdate = paths["/api/v1/members/{member_id}"]["patch"]["requestBody"]["content"]["application/json"];

/** The list's filters, as the URL holds them (`?q=&status=&…`). */
export interface MemberFilters {
  q?: string;
  unit_id?: string;
  status?: Member["status"];
  membership?: Member["membership"];
  is_leader?: boolean;
  declaration?: Member["declaration"];
}

/** A filter set from the page's search parameters; unknown or empty values are dropped. */
export function filtersFromParams(params: URLSearchParams): MemberFilters {
  const f: MemberFilters = {};
  const q = params.get("q")?.trim();
  if (q) f.q = q;
  const unit = params.get("unit");
  if (unit) f.unit_id = unit;
  const status = params.get("status");
  if (status) f.status = status as Member["status"];
  const membership = params.get("membership");
  if (membership) f.membership = membership as Member["membership"];
  const leader = params.get("leader");
  if (leader === "true" || leader === "false") f.is_leader = leader === "true";
  const declaration = params.get("declaration");
  if (declaration) f.declaration = declaration as Member["declaration"];
  return f;
}

/** Search parameters for a filter set (the inverse of filtersFromParams). */
export function paramsFromFilters(f: MemberFilters): URLSearchParams {
  const p = new URLSearchParams();
  if (f.q) p.set("q", f.q);
  if (f.unit_id) p.set("unit", f.unit_id);
  if (f.status) p.set("status", f.status);
  if (f.membership) p.set("membership", f.membership);
  if (f.is_leader !== undefined) p.set("leader", String(f.is_leader));
  if (f.declaration) p.set("declaration", f.declaration);
  return p;
}

export const PAGE_SIZE = 200;

/** The roster, page by page, in the API's order (Vietnamese name order). */
export function useMembers(filters: MemberFilters) {
  return useInfiniteQuery({
    queryKey: ["members", "list", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/members", {
          params: { query: { ...filters, sort: "name", cursor: pageParam, limit: PAGE_SIZE } satisfies ListQuery },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useMember(id: string) {
  return useQuery({
    queryKey: ["members", id],
    queryFn: () => unwrap(api.client.GET("/api/v1/members/{member_id}", { params: { path: { member_id: id } } })),
  });
}

export function useMemberAccounts(id: string) {
  return useInfiniteQuery({
    queryKey: ["members", id, "accounts"],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/members/{member_id}/accounts", {
          params: { path: { member_id: id }, query: { cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

/** The member's audit trail (managers and admins may read it; others get the server's 403). */
export function useMemberAudit(id: string, enabled: boolean) {
  return useInfiniteQuery({
    queryKey: ["members", id, "audit"],
    enabled,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/audit-events", {
          params: { query: { entity_type: "member", entity_id: id, cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useUpdateMember() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { inline: true },
    mutationFn: ({ member, changes }: { member: Member; changes: MemberUpdate }) =>
      unwrap(
        api.client.PATCH("/api/v1/members/{member_id}", {
          params: { path: { member_id: member.id }, header: { "If-Match": ifMatch(member) } },
          body: changes,
        }),
      ),
    onSuccess: (data) => {
      queryClient.setQueryData(["members", data.id], data);
      return queryClient.invalidateQueries({ queryKey: ["members"] });
    },
  });
}

export function useCreateMember() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { inline: true },
    mutationFn: (body: MemberCreate) => unwrap(api.client.POST("/api/v1/members", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["members", "list"] }),
  });
}

/** Only the fields that changed, so a PATCH never overwrites what it did not mean to. */
export function changedFields<T extends object>(before: T, after: Partial<T>): Partial<T> {
  const out: Partial<T> = {};
  for (const key of Object.keys(after) as (keyof T)[]) {
    const a = after[key] === "" ? null : after[key];
    const b = before[key] === undefined ? null : before[key];
    if (a !== undefined && a !== b) out[key] = a as T[keyof T];
  }
  return out;
}
