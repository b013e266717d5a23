import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../api";

export const ME_KEY = ["me"] as const;

/** The caller's own record, accounts, latest reports and pending documents: one call. */
export function useMe() {
  return useQuery({
    queryKey: ME_KEY,
    queryFn: () => unwrap(api.client.GET("/api/v1/me")),
  });
}

/** The principal (roles and grants): the committee workspace builds its navigation on it. */
export function usePrincipal() {
  return useQuery({
    queryKey: ["auth", "me"],
    queryFn: () => unwrap(api.client.GET("/api/v1/auth/me")),
    staleTime: 5 * 60_000,
  });
}
