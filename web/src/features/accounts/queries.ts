import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";

import { api, ifMatch, nextCursor, unwrap, unwrapResponse, type paths } from "../../api";
import { ME_KEY } from "../../lib/me";

type DeclareRequest = paths["/api/v1/members/{member_id}/accounts"]["post"]["requestBody"]["content"]["application/json"];
/** What the form sends: a link (the platform is inferred when absent). */
export interface DeclareInput {
  url: string;
  platform?: Account["platform"];
  kind: Account["kind"];
  purpose: Account["purpose"];
  display_name?: string;
}
export type Account = paths["/api/v1/members/{member_id}/accounts"]["post"]["responses"][201]["content"]["application/json"];

const accountsKey = (memberId: string) => ["members", memberId, "accounts"] as const;

export function useMemberAccounts(memberId: string | undefined) {
  return useInfiniteQuery({
    queryKey: accountsKey(memberId ?? ""),
    enabled: !!memberId,
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/members/{member_id}/accounts", {
          params: { path: { member_id: memberId ?? "" }, query: { cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

function useRefresh(memberId: string) {
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: accountsKey(memberId) }),
      queryClient.invalidateQueries({ queryKey: ME_KEY }),
    ]);
}

export function useDeclareAccount(memberId: string) {
  const refresh = useRefresh(memberId);
  return useMutation({
    meta: { inline: true },
    mutationFn: (body: DeclareInput) =>
      api.idempotency.run(`declare-account:${memberId}`, body, (key) =>
        unwrapResponse(
          api.client.POST("/api/v1/members/{member_id}/accounts", {
            params: { path: { member_id: memberId }, header: { "Idempotency-Key": key } },
            body: body satisfies DeclareRequest,
          }),
        ),
      ),
    onSuccess: refresh,
  });
}

export function useDeclareNone(memberId: string) {
  const refresh = useRefresh(memberId);
  const body = { has_accounts: false };
  return useMutation({
    mutationFn: () =>
      api.idempotency.run(`declare-none:${memberId}`, body, (key) =>
        unwrap(
          api.client.POST("/api/v1/members/{member_id}/declaration", {
            params: { path: { member_id: memberId }, header: { "Idempotency-Key": key } },
            body,
          }),
        ),
      ),
    onSuccess: refresh,
  });
}

export function useCloseAccount(memberId: string) {
  const refresh = useRefresh(memberId);
  return useMutation({
    mutationFn: (account: Account) =>
      unwrap(
        api.client.POST("/api/v1/accounts/{account_id}/close", {
          params: { path: { account_id: account.id }, header: { "If-Match": ifMatch(account) } },
          body: { declare_none: false },
        }),
      ),
    onSuccess: refresh,
  });
}

export function useMarkCompromised(memberId: string) {
  const refresh = useRefresh(memberId);
  return useMutation({
    mutationFn: (account: Account) =>
      unwrap(
        api.client.POST("/api/v1/accounts/{account_id}/compromised", {
          params: { path: { account_id: account.id }, header: { "If-Match": ifMatch(account) } },
          body: {},
        }),
      ),
    onSuccess: refresh,
  });
}
