import { expect, test } from "@playwright/test";

import { apiAs, capture, expectAccessible, OTHER_MEMBER, signIn, unique } from "./helpers";
import { openArea, pick } from "./workspace";

// The cell Chi bộ Tổ dân phố 1 (HN.HK.CB01) holds Ngô Thị Mai, whose login (mai.nt) setup.ts adds.
test.describe("workspace: guidance documents", () => {
  test("a manager drafts, attaches, publishes to a cell; a member acknowledges; progress shows 1 of N", async ({ page, browser, baseURL }, info) => {
    const code = `HD-${unique(info)}`;
    await signIn(page, "manager.hn");
    await openArea(page, "Văn bản");
    await expect(page.getByRole("heading", { name: "Văn bản hướng dẫn" })).toBeVisible();
    await expect(page.getByTestId("managed-document").first()).toBeVisible();
    await expectAccessible(page);
    await capture(page, info, "guidance-list");

    await page.getByRole("button", { name: "Soạn văn bản mới" }).click();
    await expect(page.getByRole("heading", { name: "Soạn văn bản mới" })).toBeVisible();
    await page.getByLabel("Số hiệu", { exact: true }).fill(code);
    await page.getByLabel("Tiêu đề", { exact: true }).fill("Hướng dẫn quán triệt cho chi bộ");
    await page.getByLabel("Cơ quan ban hành").fill("Đảng ủy phường Hoàn Kiếm");
    await page.getByLabel("Ngày ban hành").fill("2026-12-01");
    await pick(page, "Đơn vị nhận (cả các đơn vị trực thuộc)", "HN.HK.CB01", "HN.HK.CB01 — Chi bộ Tổ dân phố 1");
    await page.getByLabel("Hạn xác nhận (giờ Việt Nam)").fill("2026-12-31T17:00");
    await page.getByLabel("Nội dung (Markdown)").fill("# Nội dung chính\n\nĐảng viên **nghiên cứu** và <b>xác nhận</b>.\n");
    await page.getByRole("tab", { name: "Xem trước" }).click();
    const preview = page.getByTestId("markdown-preview");
    await expect(preview.getByRole("heading", { name: "Nội dung chính" })).toBeVisible();
    await expect(preview.locator("strong")).toHaveText("nghiên cứu");
    await expect(preview.locator("b")).toHaveCount(0); // raw HTML dropped
    await expectAccessible(page);
    await page.getByRole("button", { name: "Tạo bản nháp" }).click();
    await expect(page.getByRole("heading", { name: `${code} — Hướng dẫn quán triệt cho chi bộ` })).toBeVisible();
    await expect(page.getByTestId("doc-state")).toContainText("Bản nháp");

    // A PDF attached with progress (the server checks it is a PDF).
    const pdf = Buffer.from("%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n");
    await page.getByTestId("doc-file-input").setInputFiles({ name: "huong-dan-chi-bo.pdf", mimeType: "application/pdf", buffer: pdf });
    await expect(page.getByTestId("doc-file")).toContainText("Tệp hiện tại: huong-dan-chi-bo.pdf");
    // Not a PDF: the server's refusal is shown.
    await page.getByTestId("doc-file-input").setInputFiles({ name: "gia.pdf", mimeType: "application/pdf", buffer: Buffer.from("not a pdf") });
    await expect(page.getByTestId("doc-file").getByRole("alert")).toBeVisible();

    await page.getByTestId("doc-state").getByRole("button", { name: "Ban hành" }).click();
    await page.locator(".ant-popconfirm").getByRole("button", { name: "Ban hành" }).click();
    await expect(page.getByTestId("doc-state")).toContainText("lần sửa đổi 1");
    await expect(page.getByTestId("revisions")).toContainText("Lần 1");
    const progress = page.getByTestId("ack-progress");
    await expect(progress.getByTestId("ack-total")).toContainText("Đã xác nhận 0/");

    // The figures the page must show, from the API.
    const manager = await apiAs(baseURL ?? "", "manager.hn");
    const listed = (await (await manager.get("/api/v1/documents", { params: { q: code } })).json()) as { items: { id: string; code: string }[] };
    const docId = listed.items.find((d) => d.code === code)?.id;
    expect(docId).toBeTruthy();
    const before = (await (await manager.get(`/api/v1/stats/documents/${docId}`)).json()) as { rows: { is_total: boolean; addressed: number }[] };
    const addressed = before.rows.find((r) => r.is_total)?.addressed ?? 0;
    expect(addressed).toBeGreaterThan(1);
    await expect(progress.getByTestId("ack-pending").filter({ hasText: "Ngô Thị Mai" })).toBeVisible();

    // The member, in a second browser context, acknowledges it.
    const memberContext = await browser.newContext({ baseURL, locale: "vi-VN", timezoneId: "Asia/Ho_Chi_Minh", viewport: page.viewportSize() });
    const member = await memberContext.newPage();
    await signIn(member, OTHER_MEMBER.username, OTHER_MEMBER.password);
    await member.goto("/documents");
    await member.getByTestId("document-item").filter({ hasText: code }).getByRole("link").click();
    await member.getByTestId("ack").getByRole("button", { name: "Xác nhận đã học tập" }).click();
    await expect(member.getByTestId("ack").getByRole("status")).toContainText("Đã xác nhận ngày");
    await memberContext.close();

    await page.reload();
    await expect(page.getByTestId("ack-progress").getByTestId("ack-total")).toContainText(`Đã xác nhận 1/${addressed} đảng viên`);
    await page.getByTestId("ack-progress").locator("label.ant-radio-button-wrapper").filter({ hasText: "Đã xác nhận" }).click();
    await expect(page.getByTestId("ack-done").filter({ hasText: "Ngô Thị Mai" })).toBeVisible();
    const download = page.waitForEvent("download");
    await page.getByTestId("ack-progress").getByRole("button", { name: "Tải Excel (XLSX)" }).click();
    expect((await download).suggestedFilename()).toMatch(/\.xlsx$/);
    await expectAccessible(page);
    await capture(page, info, "guidance-document");

    // Archive: read only from then on.
    await page.getByTestId("doc-state").getByRole("button", { name: "Lưu trữ" }).click();
    await page.locator(".ant-popconfirm").getByRole("button", { name: "Lưu trữ" }).click();
    await expect(page.getByTestId("doc-state")).toContainText("Đã lưu trữ");
    await manager.dispose();
  });
});
