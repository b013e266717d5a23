import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, ifMatch, nextCursor, unwrap } from "../../api";
import type { paths } from "../../api";

export type UserRead = paths["/api/v1/users/{user_id}"]["get"]["responses"][200]["content"]["application/json"];
export type UserCreate = paths["/api/v1/users"]["post"]["requestBody"]["content"]["application/json"];
export type GrantIn = NonNullable<UserCreate["grants"]>[number];
export type ClientCreate = paths["/api/v1/clients"]["post"]["requestBody"]["content"]["application/json"];
export type ClientCreated = paths["/api/v1/clients"]["post"]["responses"][201]["content"]["application/json"];
export type AuditQuery = NonNullable<paths["/api/v1/audit-events"]["get"]["parameters"]["query"]>;

export function useUsers(q: string) {
  return useInfiniteQuery({
    queryKey: ["admin", "users", q],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(api.client.GET("/api/v1/users", { params: { query: { q: q || undefined, cursor: pageParam, limit: 50 } } })),
    getNextPageParam: nextCursor,
  });
}

export function useCreateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: UserCreate) => unwrap(api.client.POST("/api/v1/users", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin", "users"] }),
  });
}

export function useUpdateUser() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (args: { user: UserRead; grants?: GrantIn[]; active?: boolean }) =>
      unwrap(
        api.client.PATCH("/api/v1/users/{user_id}", {
          params: { path: { user_id: args.user.id }, header: { "If-Match": ifMatch(args.user) } },
          body: { grants: args.grants, active: args.active },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin", "users"] }),
  });
}

export function useClients() {
  return useInfiniteQuery({
    queryKey: ["admin", "clients"],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrap(api.client.GET("/api/v1/clients", { params: { query: { cursor: pageParam, limit: 50 } } })),
    getNextPageParam: nextCursor,
  });
}

export function useCreateClient() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (body: ClientCreate) => unwrap(api.client.POST("/api/v1/clients", { body })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin", "clients"] }),
  });
}

export function useRotateClient() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.client.POST("/api/v1/clients/{client_id}/rotate-secret", { params: { path: { client_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin", "clients"] }),
  });
}

export function useDeleteClient() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (id: string) =>
      unwrap(api.client.DELETE("/api/v1/clients/{client_id}", { params: { path: { client_id: id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["admin", "clients"] }),
  });
}

export function useAuditEvents(filters: AuditQuery) {
  return useInfiniteQuery({
    queryKey: ["admin", "audit", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(api.client.GET("/api/v1/audit-events", { params: { query: { ...filters, cursor: pageParam, limit: 50 } } })),
    getNextPageParam: nextCursor,
  });
}

/** A unit's code and name for showing a grant (cached; the list of units is not loaded). */
export function useUnit(id: string | null | undefined) {
  return useQuery({
    queryKey: ["units", id],
    enabled: Boolean(id),
    queryFn: () => unwrap(api.client.GET("/api/v1/units/{unit_id}", { params: { path: { unit_id: id as string } } })),
    staleTime: 5 * 60_000,
  });
}
