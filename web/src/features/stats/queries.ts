import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../../api";

export type Interval = "day" | "week" | "month";

export function useCompliance(unitId: string | undefined) {
  return useQuery({
    queryKey: ["stats", "compliance", unitId ?? null],
    queryFn: () =>
      unwrap(api.client.GET("/api/v1/stats/compliance", { params: { query: { unit_id: unitId, group_by: "child" } } })),
  });
}

/** The unit itself (its name and code: an analyst may not read units, only statistics). */
export function useScopeUnit(unitId: string | undefined) {
  return useQuery({
    queryKey: ["stats", "compliance-self", unitId ?? null],
    queryFn: () =>
      unwrap(api.client.GET("/api/v1/stats/compliance", { params: { query: { unit_id: unitId, group_by: "self" } } })),
    select: (report) => report.rows.find((r) => !r.is_total) ?? report.rows[0],
    staleTime: 5 * 60_000,
  });
}

export function useReportSeries(unitId: string | undefined, interval: Interval) {
  return useQuery({
    queryKey: ["stats", "reports", unitId ?? null, interval],
    queryFn: () =>
      unwrap(api.client.GET("/api/v1/stats/reports", { params: { query: { unit_id: unitId, interval, by: "category" } } })),
  });
}

/** The compliance table as a file (CSV with a BOM, or XLSX), as the server writes it. */
export async function exportCompliance(unitId: string | undefined, format: "csv" | "xlsx"): Promise<Blob> {
  return unwrap(
    api.client.GET("/api/v1/stats/compliance/export", {
      params: { query: { format, unit_id: unitId, group_by: "child" } },
      parseAs: "blob",
    }),
  ) as Promise<Blob>;
}
