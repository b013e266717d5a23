import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, ifMatch, nextCursor, unwrap, type paths } from "../../api";

export type Account = paths["/api/v1/accounts/{account_id}"]["get"]["responses"][200]["content"]["application/json"];

export interface QueueFilters {
  platform?: Account["platform"];
  unit_id?: string;
  q?: string;
}

/** Declarations waiting for a manager, in the API's order. */
export function usePendingAccounts(filters: QueueFilters) {
  return useInfiniteQuery({
    queryKey: ["accounts", "pending", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/accounts", {
          params: { query: { ...filters, status: "pending", cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

/** The declaring member's name (cached per member; the queue lists ids). */
export function useMemberName(memberId: string) {
  return useQuery({
    queryKey: ["members", memberId],
    staleTime: 5 * 60_000,
    queryFn: () => unwrap(api.client.GET("/api/v1/members/{member_id}", { params: { path: { member_id: memberId } } })),
    select: (m) => m.full_name,
  });
}

/** Verify (a note is optional) or reject (the server requires a note), with If-Match. */
export interface Decision {
  account: Account;
  verdict: "verify" | "reject";
  note: string;
}

export function useDecide() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { inline: true },
    mutationFn: (d: Decision) => {
      const params = { path: { account_id: d.account.id }, header: { "If-Match": ifMatch(d.account) } };
      return d.verdict === "verify"
        ? unwrap(api.client.POST("/api/v1/accounts/{account_id}/verify", { params, body: { note: d.note || null } }))
        : unwrap(api.client.POST("/api/v1/accounts/{account_id}/reject", { params, body: { note: d.note } }));
    },
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ["accounts"] }),
  });
}
