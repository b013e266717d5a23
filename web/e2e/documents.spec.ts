import { expect, test } from "@playwright/test";

import { capture, expectAccessible, signIn } from "./helpers";

test.describe("journey 4: guidance documents", () => {
  test("list, read safe Markdown, download the attachment, acknowledge (twice is harmless)", async ({ page }, info) => {
    await signIn(page);
    await page.getByRole("link", { name: "Tài liệu" }).first().click();
    // Each viewport acknowledges its own document (setup.ts publishes one per project).
    const item = page.getByTestId("document-item").filter({ hasText: `E2E-${info.project.name}/HD` });
    await expect(item).toBeVisible();
    await expect(page.getByTestId("document-item").filter({ hasText: "85-QĐ/TW — Quy định về" })).toBeVisible();
    await expectAccessible(page);
    await capture(page, info, "documents");

    await item.getByRole("link").click();
    const body = page.getByTestId("document-body");
    await expect(body.getByRole("heading", { name: "Mục đích" })).toBeVisible();
    await expect(body.locator("strong")).toHaveText("quán triệt");
    // Raw HTML is dropped: no element, no script run.
    await expect(body.locator("img, script")).toHaveCount(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();

    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: /Tải tệp đính kèm/ }).click();
    expect((await download).suggestedFilename()).toBe("huong-dan.pdf");
    await expectAccessible(page);
    await capture(page, info, "document");

    const ack = page.getByTestId("ack");
    if (info.project.name === "desktop") {
      await ack.getByRole("button", { name: "Xác nhận đã học tập" }).dblclick();
    } else {
      await ack.getByRole("button", { name: "Xác nhận đã học tập" }).tap();
    }
    await expect(ack.getByRole("status")).toContainText("Đã xác nhận ngày");
    await page.reload();
    await expect(page.getByTestId("ack").getByRole("status")).toContainText("Đã xác nhận ngày");
  });
});
