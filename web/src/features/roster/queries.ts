import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, nextCursor, unwrap, uploadWithProgress } from "../../api";
import type { paths } from "../../api";
import i18n from "../../i18n";

export type Sync = paths["/api/v1/roster/syncs/{sync_id}"]["get"]["responses"][200]["content"]["application/json"];
export type RowAction = NonNullable<NonNullable<paths["/api/v1/roster/syncs/{sync_id}/changes"]["get"]["parameters"]["query"]>["action"]>;
export type Mode = "snapshot" | "upsert";

export function useSyncs() {
  return useInfiniteQuery({
    queryKey: ["roster", "syncs"],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) => unwrap(api.client.GET("/api/v1/roster/syncs", { params: { query: { cursor: pageParam, limit: 20 } } })),
    getNextPageParam: nextCursor,
  });
}

export function useSync(id: string | null) {
  return useQuery({
    queryKey: ["roster", "sync", id],
    enabled: Boolean(id),
    queryFn: () => unwrap(api.client.GET("/api/v1/roster/syncs/{sync_id}", { params: { path: { sync_id: id as string } } })),
  });
}

export function useChanges(id: string, action: RowAction | undefined) {
  return useInfiniteQuery({
    queryKey: ["roster", "changes", id, action ?? null],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/roster/syncs/{sync_id}/changes", {
          params: { path: { sync_id: id }, query: { action, cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

export function useUnitChanges(id: string) {
  return useInfiniteQuery({
    queryKey: ["roster", "unit-changes", id],
    initialPageParam: undefined as string | undefined,
    queryFn: ({ pageParam }) =>
      unwrap(
        api.client.GET("/api/v1/roster/syncs/{sync_id}/unit-changes", {
          params: { path: { sync_id: id }, query: { cursor: pageParam, limit: 50 } },
        }),
      ),
    getNextPageParam: nextCursor,
  });
}

/** Preview a roster file (dry run): the file is the body, with its Content-Type; mode and
 * scope are query parameters. One Idempotency-Key per file and settings, so a retry after a
 * lost answer does not make a second sync. */
export async function previewFile(args: {
  file: File;
  contentType: string;
  mode: Mode;
  scopeUnitCode?: string;
  onProgress: (fraction: number) => void;
}): Promise<Sync> {
  const query = new URLSearchParams({ mode: args.mode, dry_run: "true" });
  if (args.scopeUnitCode) query.set("scope_unit_code", args.scopeUnitCode);
  const intent = `${args.file.name}|${args.file.size}|${args.file.lastModified}|${query}`;
  return api.idempotency.run(`roster:${intent}`, { intent }, (key) =>
    uploadWithProgress<Sync>({
      auth: api.auth,
      baseUrl: api.baseUrl,
      language: i18n.language || "vi",
      path: `/api/v1/roster/syncs?${query}`,
      form: args.file,
      headers: { "Content-Type": args.contentType, "Idempotency-Key": key },
      onProgress: args.onProgress,
    }),
  );
}

export function useApply(id: string) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (guards: { skip_rejected: boolean; allow_mass_deactivation: boolean }) =>
      unwrap(api.client.POST("/api/v1/roster/syncs/{sync_id}/apply", { params: { path: { sync_id: id }, query: guards } })),
    onSuccess: () => Promise.all([
      queryClient.invalidateQueries({ queryKey: ["roster"] }),
      queryClient.invalidateQueries({ queryKey: ["members"] }),
    ]),
  });
}
