// Compiled with `tsc --strict --noEmit` against the types openapi-typescript generates
// from openapi/openapi.json (scripts/clients.sh): one call of every operation family
// through openapi-fetch, and `@ts-expect-error` lines proving that requests the server
// would refuse with 422 do not compile. Never run: the types are the proof.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

type Schemas = components["schemas"];
type Problem = Schemas["Problem"];

const api = createClient<paths>({ baseUrl: "http://127.0.0.1:8000" });
const id = "5d2c1a4b-8e9f-4a3b-9c7d-6e5f4a3b2c1d";

function problemCode(p: Problem): string {
  return p.error ? `${p.code} (${p.error})` : p.code;
}

export async function journey(): Promise<string[]> {
  const seen: string[] = [];

  // auth: password, client credentials, refresh (a form body), the principal.
  const form = { bodySerializer: (b: Record<string, unknown>) => new URLSearchParams(b as Record<string, string>) };
  const login = await api.POST("/api/v1/auth/token", {
    body: { grant_type: "password", username: "an.nv", password: "qd85-demo-2026" }, ...form,
  });
  if (login.error) return [problemCode(login.error)];
  const token: Schemas["TokenResponse"] = login.data;
  await api.POST("/api/v1/auth/token", {
    body: { grant_type: "client_credentials", client_id: "c", client_secret: "s" }, ...form,
  });
  await api.POST("/api/v1/auth/token", {
    body: { grant_type: "refresh_token", refresh_token: token.refresh_token ?? "" }, ...form,
  });
  const me = await api.GET("/api/v1/auth/me");
  const kind: Schemas["PrincipalKind"] | undefined = me.data?.kind;
  seen.push(String(kind));

  // meta: a typed catalogue of every enumeration.
  const enums = await api.GET("/api/v1/meta/enums");
  const outcomes: Schemas["EnumValue"][] | undefined = enums.data?.report_outcome;
  seen.push(String(outcomes?.length));

  // units, members (q), accounts.
  await api.GET("/api/v1/units/{unit_id}/tree", { params: { path: { unit_id: id }, query: { depth: 2 } } });
  const members = await api.GET("/api/v1/members", { params: { query: { q: "nguyen van an", limit: 10 } } });
  const next: string | null | undefined = members.data?.next_cursor;
  seen.push(String(next));
  const account = await api.POST("/api/v1/members/{member_id}/accounts", {
    params: { path: { member_id: id } },
    body: { url: "https://www.facebook.com/nguyen.van.an", platform: "facebook", purpose: "personal" },
  });
  seen.push(String(account.data?.canonical_key));

  // reports: file, evidence up and down, move through review to resolution.
  const filed = await api.POST("/api/v1/reports", {
    body: {
      url: "https://www.facebook.com/some.page/posts/1", category: "fake_news",
      description: "Bịa đặt", proposed_action: "refute",
    },
  });
  const reportId = filed.data?.id ?? id;
  const upload = new FormData();
  upload.append("file", new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: "image/png" }), "a.png");
  const evidence = await api.POST("/api/v1/reports/{report_id}/evidence", {
    params: { path: { report_id: reportId } },
    body: { file: "" }, bodySerializer: () => upload,
  });
  const file = await api.GET("/api/v1/reports/{report_id}/evidence/{evidence_id}", {
    params: { path: { report_id: reportId, evidence_id: evidence.data?.id ?? id } }, parseAs: "blob",
  });
  seen.push(String(file.data?.size));
  const version = `"${filed.data?.version ?? 1}"`;
  await api.POST("/api/v1/reports/{report_id}/transitions", {
    params: { path: { report_id: reportId }, header: { "If-Match": version } },
    body: { to: "in_review", comment: "Đang xác minh" },
  });
  await api.POST("/api/v1/reports/{report_id}/transitions", {
    params: { path: { report_id: reportId } },
    body: { to: "escalated", authority: "Công an tỉnh A", reference: "CV-123/2026" },
  });
  const resolved = await api.POST("/api/v1/reports/{report_id}/transitions", {
    params: { path: { report_id: reportId } },
    body: { to: "resolved", outcome: "refuted" },
  });
  const status: Schemas["ReportStatus"] | undefined = resolved.data?.status;
  seen.push(String(status));
  const timeline = await api.GET("/api/v1/reports/{report_id}/timeline", { params: { path: { report_id: reportId } } });
  const kinds: Schemas["TimelineKind"][] = (timeline.data?.items ?? []).map((e) => e.kind);
  seen.push(kinds.join(","));

  // documents: acknowledge with no body at all.
  const ack = await api.POST("/api/v1/documents/{document_id}/acknowledgements", {
    params: { path: { document_id: id } },
  });
  seen.push(String(ack.data?.revision));
  await api.GET("/api/v1/documents/{document_id}/file", { params: { path: { document_id: id } }, parseAs: "blob" });

  // statistics: JSON only on the JSON operation; CSV/XLSX from the export operation.
  const stats = await api.GET("/api/v1/stats/compliance", { params: { query: { group_by: "child" } } });
  const rows: Schemas["ComplianceRow"][] = stats.data?.rows ?? [];
  seen.push(String(rows.length));
  const series = await api.GET("/api/v1/stats/reports", { params: { query: { interval: "week", by: "status" } } });
  const interval: Schemas["SeriesInterval"] | undefined = series.data?.interval;
  seen.push(String(interval));
  const xlsx = await api.GET("/api/v1/stats/compliance/export", {
    params: { query: { format: "xlsx" } }, parseAs: "blob",
  });
  seen.push(String(xlsx.data?.size));

  // roster: a CSV body, its changes as XLSX, apply.
  const sync = await api.POST("/api/v1/roster/syncs", {
    params: { query: { mode: "upsert", scope_unit_code: "HN" } },
    body: "Mã đảng viên,Họ và tên,Chi bộ\nDV-1,Nguyễn Văn An,HN.01\n",
    headers: { "Content-Type": "text/csv" }, bodySerializer: (b) => b as string,
  });
  const source: Schemas["SyncSource"] | undefined = sync.data?.source;
  seen.push(String(source));
  await api.GET("/api/v1/roster/syncs/{sync_id}/changes/export", {
    params: { path: { sync_id: id }, query: { format: "csv" } }, parseAs: "text",
  });
  await api.POST("/api/v1/roster/syncs/{sync_id}/apply", { params: { path: { sync_id: id } } });

  // me, users, clients, audit.
  await api.GET("/api/v1/me");
  await api.POST("/api/v1/users", {
    body: { username: "reviewer.x", password: "a-long-passphrase", grants: [{ role: "reviewer", unit_id: id }] },
  });
  const client = await api.POST("/api/v1/clients", { body: { name: "HR", role: "partner", unit_id: id } });
  seen.push(String(client.data?.client_secret));
  await api.GET("/api/v1/audit-events", { params: { query: { limit: 5 } } });

  // A problem is typed, whatever the status.
  const missing = await api.GET("/api/v1/reports/{report_id}", {
    params: { path: { report_id: id }, header: { "Accept-Language": "en" } },
  });
  if (missing.error) seen.push(problemCode(missing.error));
  return seen;
}

export async function refused(): Promise<void> {
  const form = { bodySerializer: (b: Record<string, unknown>) => new URLSearchParams(b as Record<string, string>) };
  await api.POST("/api/v1/reports", {
    // @ts-expect-error a report without `category` does not compile
    body: { url: "https://example.vn/p/1", description: "x", proposed_action: "refute" },
  });
  await api.POST("/api/v1/reports", {
    // @ts-expect-error `spam` is no category
    body: { url: "https://example.vn/p/1", category: "spam", description: "x", proposed_action: "refute" },
  });
  await api.POST("/api/v1/reports/{report_id}/transitions", {
    params: { path: { report_id: id } },
    // @ts-expect-error a transition to `resolved` needs an `outcome`
    body: { to: "resolved" },
  });
  await api.POST("/api/v1/reports/{report_id}/transitions", {
    params: { path: { report_id: id } },
    // @ts-expect-error escalating needs `authority` and `reference`
    body: { to: "escalated", authority: "Công an tỉnh A" },
  });
  await api.POST("/api/v1/auth/token", {
    // @ts-expect-error `magic` is no grant type
    body: { grant_type: "magic", username: "an.nv", password: "x" }, ...form,
  });
  await api.POST("/api/v1/members/{member_id}/accounts", {
    params: { path: { member_id: id } },
    // @ts-expect-error `platform` is an enumeration
    body: { url: "https://www.facebook.com/x", platform: "myspace" },
  });
  const stats = await api.GET("/api/v1/stats/compliance");
  // @ts-expect-error the JSON operation returns JSON only: no `string` in its type
  const text: string = stats.data;
  void text;
}
