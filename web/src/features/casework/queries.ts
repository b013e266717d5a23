import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, ifMatch, nextCursor, unwrap, type paths } from "../../api";
import { downloadEvidence } from "../reports/queries";

// The member's report pages and the handler's read a report the same way.
export { downloadEvidence, useEvidence, useReport, useTimeline } from "../reports/queries";

type ListQuery = NonNullable<paths["/api/v1/reports"]["get"]["parameters"]["query"]>;
/** A report as a handler reads it; `reporter_member_id` is there only where the API shows it. */
export type Report = paths["/api/v1/reports/{report_id}"]["get"]["responses"][200]["content"]["application/json"];
export type TransitionBody = paths["/api/v1/reports/{report_id}/transitions"]["post"]["requestBody"]["content"]["application/json"];
export type Allowed = Report["allowed_transitions"][number];
export type Update = paths["/api/v1/reports/{report_id}"]["patch"]["requestBody"]["content"]["application/json"];

export interface QueueFilters {
  status?: Report["status"][];
  category?: Report["category"];
  overdue?: boolean;
  assignee_id?: string;
  unit_id?: string;
}

/** The handling queue: the nearest deadline first (`sort=due_at`). */
export function useQueue(filters: QueueFilters) {
  return useInfiniteQuery({
    queryKey: ["reports", "queue", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/reports", {
          params: { query: { ...filters, sort: "due_at", cursor: pageParam, limit: 50 } satisfies ListQuery },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

/** One evidence file's bytes (the bearer token rules out a plain <img src>). */
export function useEvidenceBlob(reportId: string, evidenceId: string, enabled: boolean) {
  return useQuery({
    queryKey: ["reports", reportId, "evidence", evidenceId, "blob"],
    enabled,
    staleTime: Infinity, // evidence is never altered
    queryFn: () => downloadEvidence(reportId, evidenceId),
  });
}

function useRefresh() {
  const queryClient = useQueryClient();
  return (report: Report) => {
    queryClient.setQueryData(["reports", report.id], report);
    return queryClient.invalidateQueries({ queryKey: ["reports"] });
  };
}

/** A move the server listed in `allowed_transitions`, with If-Match. */
export function useTransition() {
  const refresh = useRefresh();
  return useMutation({
    meta: { inline: true },
    mutationFn: ({ report, body }: { report: Report; body: TransitionBody }) =>
      unwrap(
        api.client.POST("/api/v1/reports/{report_id}/transitions", {
          params: { path: { report_id: report.id }, header: { "If-Match": ifMatch(report) } },
          body,
        }),
      ),
    onSuccess: refresh,
  });
}

/** Assignment and priority, with If-Match. */
export function useUpdateReport() {
  const refresh = useRefresh();
  return useMutation({
    mutationFn: ({ report, changes }: { report: Report; changes: Update }) =>
      unwrap(
        api.client.PATCH("/api/v1/reports/{report_id}", {
          params: { path: { report_id: report.id }, header: { "If-Match": ifMatch(report) } },
          body: changes,
        }),
      ),
    onSuccess: refresh,
  });
}

export interface TransitionValues {
  comment?: string;
  outcome?: string;
  authority?: string;
  reference?: string;
}

/** The body of a listed move: its target, the optional comment, and exactly the fields the
 * server said it requires (`requires`); the others are left out, as the API asks. */
export function transitionBody(move: Allowed, values: TransitionValues): TransitionBody {
  const body: Record<string, unknown> = { to: move.to, comment: values.comment?.trim() || null };
  for (const field of move.requires) {
    const v = values[field as keyof TransitionValues];
    body[field] = typeof v === "string" ? v.trim() : v;
  }
  return body as TransitionBody;
}
