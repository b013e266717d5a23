import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, nextCursor, unwrap } from "../../api";
import { ME_KEY } from "../../lib/me";

export function useDocuments(pendingOnly: boolean) {
  return useInfiniteQuery({
    queryKey: ["documents", { pendingOnly }],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/documents", {
          params: { query: { cursor: pageParam, limit: 20, ...(pendingOnly ? { ack_state: "pending" as const } : {}) } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useDocument(id: string) {
  return useQuery({
    queryKey: ["documents", id],
    queryFn: () => unwrap(api.client.GET("/api/v1/documents/{document_id}", { params: { path: { document_id: id } } })),
  });
}

/** Acknowledge the current revision. The server makes it idempotent, and the key makes a
 * double click or a retry one request as far as the server is concerned. */
export function useAcknowledge(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (revision: number) =>
      api.idempotency.run(`ack:${id}`, { revision }, (key) =>
        unwrap(
          api.client.POST("/api/v1/documents/{document_id}/acknowledgements", {
            params: { path: { document_id: id }, header: { "Idempotency-Key": key } },
            body: {},
          }),
        ),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["documents"] }),
        queryClient.invalidateQueries({ queryKey: ME_KEY }),
      ]),
  });
}

export async function downloadDocumentFile(id: string): Promise<Blob> {
  return unwrap(
    api.client.GET("/api/v1/documents/{document_id}/file", {
      params: { path: { document_id: id } },
      parseAs: "blob",
    }),
  ) as Promise<Blob>;
}
