import { expect, type Page, test } from "@playwright/test";

import { apiAs, capture, expectAccessible, signIn, unique } from "./helpers";
import { openArea, pick } from "./workspace";

/** Drop a file on the drop zone, as a drag from the desktop would. */
async function dropFile(page: Page, name: string, type: string, text: string): Promise<void> {
  const data = await page.evaluateHandle(
    ({ name, type, text }) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], name, { type }));
      return dt;
    },
    { name, type, text },
  );
  await page.getByTestId("dropzone").dispatchEvent("drop", { dataTransfer: data });
}

test.describe("workspace: roster sync", () => {
  test("a partner operator drops a CSV with Vietnamese headers, reviews the diff, confirms skipping a bad row, applies", async ({ page, baseURL }, info) => {
    const tag = unique(info);
    const ext1 = `E2E-${tag}-1`;
    const ext2 = `E2E-${tag}-2`;
    const position = `Tổ trưởng ${tag}`;
    // Each viewport updates its own seeded member, so the diff reads "(empty) → position".
    const existing =
      info.project.name === "phone"
        ? { ext: "DV-HN-0004", name: "Phạm Thị Dung", membership: "Dự bị", q: "Pham Thi Dung" }
        : { ext: "DV-HN-0003", name: "Lê Văn Cường", membership: "Chính thức", q: "Le Van Cuong" };
    const csv = [
      "Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên,Chức vụ",
      `${ext1},Lê Thị Thu ${tag},HN.BD.CB01,Chính thức,`,
      `${ext2},Phạm Văn Hùng ${tag},HN.BD.CB02,Dự bị,`,
      `${existing.ext},${existing.name},HN.BD.CB01,${existing.membership},${position}`,
      `E2E-${tag}-3,Người Sai Chi Bộ,KHONG.CO,Chính thức,`,
    ].join("\n");

    await signIn(page, "partner.hn");
    await openArea(page, "Đồng bộ danh sách");
    await expect(page.getByRole("heading", { name: "Đồng bộ danh sách" })).toBeVisible();
    // A partner sees no statistics and no administration.
    await expect(page.getByRole("navigation").getByRole("link", { name: "Quản trị" })).toHaveCount(0);
    await pick(page, "Đơn vị", "HN", "HN — Đảng bộ Thành phố Hà Nội");
    await dropFile(page, "danh-sach.txt", "text/plain", "x");
    await expect(page.getByRole("alert")).toContainText("chỉ nhận CSV, XLSX hoặc NDJSON");
    await dropFile(page, "danh-sach.csv", "text/csv", csv);
    await expect(page.getByTestId("chosen-file")).toContainText("danh-sach.csv");
    await expectAccessible(page);
    await capture(page, info, "roster-upload");
    await page.getByRole("button", { name: "Xem trước thay đổi" }).click();

    // The preview: counts per action, the rejected row with its number and reason.
    await expect(page.getByTestId("sync-summary")).toContainText("Đã xem trước");
    await expect(page.getByTestId("count-created")).toHaveText("2");
    await expect(page.getByTestId("count-updated")).toHaveText("1");
    await expect(page.getByTestId("count-rejected")).toHaveText("1");
    await expect(page.getByTestId("rejected-rows")).toContainText("Dòng 5");
    await expect(page.getByTestId("rejected-rows")).toContainText(`E2E-${tag}-3`);
    // The diff: the update reads `field: before → after`.
    const update = page.getByTestId("change-item").filter({ hasText: existing.ext });
    await expect(update).toContainText(`Chức vụ: (trống) → ${position}`);
    // Filtered by action: only the two new members.
    await pick(page, "Lọc theo loại thay đổi", "", "Thêm mới");
    await expect(page.getByTestId("change-item")).toHaveCount(2);
    await expect(page.getByTestId("change-item").first()).toContainText("Họ và tên:");

    // Apply needs the rejected row's skip confirmed, and says what will happen.
    const apply = page.getByTestId("apply-panel").getByRole("button", { name: "Áp dụng" });
    await expect(apply).toBeDisabled();
    await page.getByText("Tôi đồng ý bỏ qua 1 dòng bị từ chối").click();
    await expect(apply).toBeEnabled();
    await expectAccessible(page);
    await capture(page, info, "roster-preview");
    await apply.click();
    const summary = page.getByTestId("apply-summary");
    await expect(summary).toContainText("Thêm mới: 2 đảng viên");
    await expect(summary).toContainText("Bỏ qua 1 dòng bị từ chối.");
    await page.locator(".ant-modal-confirm").getByRole("button", { name: "Áp dụng" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Đã áp dụng lúc" })).toBeVisible();
    await expect(page.getByTestId("sync-item").first()).toContainText("áp dụng lúc");

    // The new members are in the roster (a manager of Hà Nội reads it).
    const manager = await apiAs(baseURL ?? "", "manager.hn");
    const found = (await (await manager.get("/api/v1/members", { params: { q: tag } })).json()) as {
      items: { external_id: string; unit_id: string }[];
    };
    expect(found.items.map((m) => m.external_id).sort()).toEqual([ext1, ext2]);
    const updated = (await (await manager.get("/api/v1/members", { params: { q: existing.q } })).json()) as {
      items: { position: string | null }[];
    };
    expect(updated.items[0]?.position).toBe(position);
    await manager.dispose();
  });

  test("a sync whose roster moved since the preview is refused with an explanation and previewed again", async ({ page, baseURL }, info) => {
    const tag = unique(info);
    const csv = `Mã đảng viên,Họ và tên,Chi bộ,Loại đảng viên\nE2E-${tag}-9,Trịnh Văn Mới ${tag},HN.HK.CB01,Chính thức\nDV-HN-0009,Đỗ Minh Khoa,HN.HK.CB01,Chính thức\n`;
    await signIn(page, "partner.hn");
    await openArea(page, "Đồng bộ danh sách");
    await dropFile(page, "moi.csv", "text/csv", csv);
    await page.getByRole("button", { name: "Xem trước thay đổi" }).click();
    await expect(page.getByTestId("count-created")).toHaveText("1");

    // Meanwhile a manager changes a member the preview covers.
    const manager = await apiAs(baseURL ?? "", "manager.hn");
    const khoa = ((await (await manager.get("/api/v1/members", { params: { q: "Do Minh Khoa" } })).json()) as {
      items: { id: string; version: number; position: string | null }[];
    }).items[0];
    expect(khoa).toBeTruthy();
    const patched = await manager.patch(`/api/v1/members/${khoa?.id}`, {
      headers: { "If-Match": `"${khoa?.version}"` },
      data: { position: `Ủy viên ${tag}` },
    });
    expect(patched.status(), await patched.text()).toBe(200);
    await manager.dispose();

    await page.getByTestId("apply-panel").getByRole("button", { name: "Áp dụng" }).click();
    await page.locator(".ant-modal-confirm").getByRole("button", { name: "Áp dụng" }).click();
    const alert = page.getByRole("alert").filter({ hasText: "Danh sách đã thay đổi kể từ khi xem trước" });
    await expect(alert).toBeVisible();
    await expectAccessible(page);
    await capture(page, info, "roster-changed");
    await alert.getByRole("button", { name: "Xem trước lại" }).click();
    await expect(page.getByTestId("sync-summary")).toContainText("Đã xem trước");
    await expect(page.getByTestId("apply-panel").getByRole("alert")).toHaveCount(0);
    await page.getByTestId("apply-panel").getByRole("button", { name: "Áp dụng" }).click();
    await page.locator(".ant-modal-confirm").getByRole("button", { name: "Áp dụng" }).click();
    await expect(page.getByRole("status").filter({ hasText: "Đã áp dụng lúc" })).toBeVisible();
  });
});
