import { MutationCache, QueryCache, QueryClient } from "@tanstack/react-query";

import { ApiError, NetworkError } from "../api/errors";

export interface ProblemHandlers {
  /** A write answered 412: someone else changed the record. Offer to reload. */
  onStale: (error: ApiError) => void;
  /** Any other failed write not handled in place (forms set meta.inline). */
  onError: (error: unknown) => void;
}

/** Server state lives here. Reads retry once on network errors only (a 4xx will not get
 * better); writes never retry by themselves (creates retry inside the Idempotency-Key
 * helper, with the same key). */
export function createQueryClient(handlers: ProblemHandlers): QueryClient {
  const client: QueryClient = new QueryClient({
    queryCache: new QueryCache({
      onError: (error) => {
        if (error instanceof ApiError && error.status === 401) client.clear();
      },
    }),
    mutationCache: new MutationCache({
      onError: (error, _vars, _ctx, mutation) => {
        if (error instanceof ApiError && error.isStale) {
          handlers.onStale(error);
          return;
        }
        if (mutation.meta?.inline) return;
        handlers.onError(error);
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 30_000,
        refetchOnWindowFocus: false,
        retry: (count, error) => error instanceof NetworkError && count < 1,
      },
      mutations: { retry: false },
    },
  });
  return client;
}

declare module "@tanstack/react-query" {
  interface Register {
    mutationMeta: { inline?: boolean };
  }
}
