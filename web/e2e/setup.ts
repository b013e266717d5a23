import { expect, test as setup } from "@playwright/test";

import { apiAs, OTHER_MEMBER } from "./helpers";

// Fixtures the demo seed lacks: a second plain member with a login, and a document with
// Markdown (and raw HTML that must not render) and an attachment, addressed to an.nv.
setup("demo fixtures", async ({ baseURL }) => {
  const base = baseURL ?? "";
  const admin = await apiAs(base, "admin");
  const mai = await admin.get("/api/v1/members", { params: { q: "Ngo Thi Mai" } });
  const maiId = ((await mai.json()) as { items: { id: string }[] }).items[0]?.id;
  expect(maiId).toBeTruthy();
  const user = await admin.post("/api/v1/users", {
    data: { username: OTHER_MEMBER.username, password: OTHER_MEMBER.password, member_id: maiId, grants: [] },
  });
  expect([201, 409]).toContain(user.status());

  const an = await apiAs(base, "an.nv");
  const me = (await (await an.get("/api/v1/me")).json()) as { unit_id: string };
  const manager = await apiAs(base, "manager.hn");
  for (const project of ["desktop", "phone"]) {
  const created = await manager.post("/api/v1/documents", {
    data: {
      code: `E2E-${project}/HD`,
      title: "Hướng dẫn kiểm thử hiển thị tài liệu",
      doc_type: "guidance",
      issuer: "Ban Tuyên giáo",
      issued_on: "2026-11-30",
      summary: "Tài liệu kiểm thử",
      body: "# Mục đích\n\nĐảng viên **quán triệt** nội dung.\n\n<img src=x onerror=\"window.__xss=1\"><script>window.__xss=2</script>\n\n- Một\n- Hai\n",
      audience_unit_id: me.unit_id,
      requires_ack: true,
      ack_due_at: "2026-12-31T10:00:00Z",
    },
  });
  expect(created.status(), await created.text()).toBe(201);
  const doc = (await created.json()) as { id: string; version: number };
  const pdf = Buffer.from("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
  const file = await manager.put(`/api/v1/documents/${doc.id}/file`, {
    multipart: { file: { name: "huong-dan.pdf", mimeType: "application/pdf", buffer: pdf } },
  });
  expect(file.status(), await file.text()).toBeLessThan(300);
  const current = (await (await manager.get(`/api/v1/documents/${doc.id}`)).json()) as { version: number };
  const published = await manager.post(`/api/v1/documents/${doc.id}/publish`, {
    headers: { "If-Match": `"${current.version}"` },
  });
  expect(published.status(), await published.text()).toBe(200);
  }
});
