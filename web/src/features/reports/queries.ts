import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, ifMatch, nextCursor, unwrap, unwrapResponse, uploadWithProgress, type paths } from "../../api";
import i18n from "../../i18n";
import { ME_KEY } from "../../lib/me";

type CreateRequest = paths["/api/v1/reports"]["post"]["requestBody"]["content"]["application/json"];
export type Report = paths["/api/v1/reports/{report_id}"]["get"]["responses"][200]["content"]["application/json"];
export type Evidence = paths["/api/v1/reports/{report_id}/evidence"]["post"]["responses"][201]["content"]["application/json"];

export interface FileReportInput {
  url: string;
  category: Report["category"];
  description: string;
  proposed_action: Report["proposed_action"];
  observed_at?: string;
  impersonated_member_id?: string;
  impersonated_unit_id?: string;
}

/** Evidence limits, checked before upload as a courtesy; the server's answer decides. */
export const EVIDENCE_MAX_BYTES = 10_000_000;
export const EVIDENCE_MAX_FILES = 20;
export const EVIDENCE_TYPES = ["image/png", "image/jpeg", "image/webp", "application/pdf"];

export function useMyReports() {
  return useInfiniteQuery({
    queryKey: ["reports", "mine"],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(api.client.GET("/api/v1/reports", { params: { query: { mine: true, cursor: pageParam, limit: 20 } } })),
    getNextPageParam: nextCursor,
  });
}

export function useReport(id: string) {
  return useQuery({
    queryKey: ["reports", id],
    queryFn: () => unwrap(api.client.GET("/api/v1/reports/{report_id}", { params: { path: { report_id: id } } })),
  });
}

export function useTimeline(id: string) {
  return useInfiniteQuery({
    queryKey: ["reports", id, "timeline"],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/reports/{report_id}/timeline", {
          params: { path: { report_id: id }, query: { cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useEvidence(id: string) {
  return useInfiniteQuery({
    queryKey: ["reports", id, "evidence"],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/reports/{report_id}/evidence", {
          params: { path: { report_id: id }, query: { cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useFileReport() {
  const queryClient = useQueryClient();
  return useMutation({
    meta: { inline: true },
    mutationFn: (body: FileReportInput) =>
      api.idempotency.run("file-report", body, (key) =>
        unwrapResponse(
          api.client.POST("/api/v1/reports", {
            params: { header: { "Idempotency-Key": key } },
            body: body satisfies CreateRequest,
          }),
        ),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["reports", "mine"] }),
        queryClient.invalidateQueries({ queryKey: ME_KEY }),
      ]),
  });
}

export function uploadEvidence(reportId: string, file: File, onProgress: (fraction: number) => void) {
  const form = new FormData();
  form.append("file", file);
  return uploadWithProgress<Evidence>({
    auth: api.auth,
    baseUrl: api.baseUrl,
    language: i18n.language || "vi",
    path: `/api/v1/reports/${encodeURIComponent(reportId)}/evidence`,
    form,
    onProgress,
  });
}

export async function downloadEvidence(reportId: string, evidenceId: string): Promise<Blob> {
  return unwrap(
    api.client.GET("/api/v1/reports/{report_id}/evidence/{evidence_id}", {
      params: { path: { report_id: reportId, evidence_id: evidenceId } },
      parseAs: "blob",
    }),
  ) as Promise<Blob>;
}

/** The reporter withdraws their report: offered only when the server lists the move in
 * `allowed_transitions` (the client never copies the workflow). */
export function useWithdrawReport() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (report: Report) =>
      unwrap(
        api.client.POST("/api/v1/reports/{report_id}/transitions", {
          params: { path: { report_id: report.id }, header: { "If-Match": ifMatch(report) } },
          body: { to: "withdrawn", comment: null },
        }),
      ),
    onSuccess: () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: ["reports"] }),
        queryClient.invalidateQueries({ queryKey: ME_KEY }),
      ]),
  });
}
