import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, ifMatch, nextCursor, unwrap, uploadWithProgress } from "../../api";
import type { paths } from "../../api";
import i18n from "../../i18n";

export type Doc = paths["/api/v1/documents/{document_id}"]["get"]["responses"][200]["content"]["application/json"];
export type DocCreate = paths["/api/v1/documents"]["post"]["requestBody"]["content"]["application/json"];
export type DocStatus = Doc["status"];
export type AckStateFilter = "pending" | "done";

export function useManagedDocuments(status: DocStatus | undefined, q: string) {
  return useInfiniteQuery({
    queryKey: ["guidance", "list", status ?? null, q],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/documents", {
          params: { query: { status, q: q || undefined, cursor: pageParam, limit: 20 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useManagedDocument(id: string | undefined) {
  return useQuery({
    queryKey: ["guidance", "doc", id],
    enabled: Boolean(id),
    queryFn: () => unwrap(api.client.GET("/api/v1/documents/{document_id}", { params: { path: { document_id: id as string } } })),
  });
}

function useInvalidate() {
  const queryClient = useQueryClient();
  return () => Promise.all([
    queryClient.invalidateQueries({ queryKey: ["guidance"] }),
    queryClient.invalidateQueries({ queryKey: ["documents"] }),
  ]);
}

export function useCreateDocument() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (body: DocCreate) => unwrap(api.client.POST("/api/v1/documents", { body })),
    onSuccess: invalidate,
  });
}

export function useUpdateDocument() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (args: { doc: Doc; body: Partial<DocCreate> }) =>
      unwrap(
        api.client.PATCH("/api/v1/documents/{document_id}", {
          params: { path: { document_id: args.doc.id }, header: { "If-Match": ifMatch(args.doc) } },
          body: args.body,
        }),
      ),
    onSuccess: invalidate,
  });
}

/** Publish or archive, with If-Match on the version read. */
export function useMove() {
  const invalidate = useInvalidate();
  return useMutation({
    mutationFn: (args: { doc: Doc; to: "publish" | "archive" }) => {
      const options = { params: { path: { document_id: args.doc.id }, header: { "If-Match": ifMatch(args.doc) } } };
      return unwrap(
        args.to === "publish"
          ? api.client.POST("/api/v1/documents/{document_id}/publish", options)
          : api.client.POST("/api/v1/documents/{document_id}/archive", options),
      );
    },
    onSuccess: invalidate,
  });
}

/** Attach or replace the file (PDF or DOCX, checked by the server), with progress. */
export async function uploadDocumentFile(doc: Doc, file: File, onProgress: (f: number) => void): Promise<Doc> {
  const form = new FormData();
  form.append("file", file);
  return uploadWithProgress<Doc>({
    auth: api.auth,
    baseUrl: api.baseUrl,
    language: i18n.language || "vi",
    path: `/api/v1/documents/${encodeURIComponent(doc.id)}/file`,
    method: "PUT",
    headers: { "If-Match": ifMatch(doc) },
    form,
    onProgress,
  });
}

export function useRevisions(id: string) {
  return useInfiniteQuery({
    queryKey: ["guidance", "revisions", id],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/documents/{document_id}/revisions", {
          params: { path: { document_id: id }, query: { cursor: pageParam, limit: 20 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useAckStats(id: string) {
  return useQuery({
    queryKey: ["guidance", "ack-stats", id],
    queryFn: () => unwrap(api.client.GET("/api/v1/stats/documents/{document_id}", { params: { path: { document_id: id } } })),
  });
}

export function useAcks(id: string, state: AckStateFilter) {
  return useInfiniteQuery({
    queryKey: ["guidance", "acks", id, state],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/documents/{document_id}/acknowledgements", {
          params: { path: { document_id: id }, query: { state, cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export async function exportAcks(id: string, format: "csv" | "xlsx"): Promise<Blob> {
  return unwrap(
    api.client.GET("/api/v1/stats/documents/{document_id}/export", {
      params: { path: { document_id: id }, query: { format } },
      parseAs: "blob",
    }),
  ) as Promise<Blob>;
}
