import { expect, test } from "@playwright/test";

import { apiAs, capture, expectAccessible, OTHER_MEMBER, signIn, unique } from "./helpers";

// A 1×1 PNG.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
  "base64",
);

test.describe("journey 3: report a post", () => {
  test("file a report with evidence; the reviewer sees it, another member cannot open it", async ({
    page,
    browser,
    baseURL,
  }, info) => {
    const tag = unique(info);
    const url = `https://www.facebook.com/tin.gia.${tag}/posts/123456`;
    await signIn(page);
    await page.getByRole("link", { name: "Phản ánh" }).first().click();
    await expectAccessible(page);
    await capture(page, info, "reports");
    await page.getByRole("link", { name: "Gửi phản ánh mới" }).click();

    await page.getByLabel("Liên kết tới nội dung").fill(url);
    await page.getByLabel("Loại thông tin").click();
    await page.getByTitle("Tin giả", { exact: true }).click();
    await page.getByLabel("Mô tả").fill("Bài viết bịa đặt về việc sáp nhập xã, lan truyền trong nhóm cư dân.");
    await page.getByLabel("Đề xuất xử lý").click();
    await page.getByTitle("Phản bác, định hướng").click();
    await expect(page.locator(".ant-select-dropdown:visible")).toHaveCount(0);
    await expectAccessible(page);
    await capture(page, info, "report-new");
    await page.getByRole("button", { name: "Gửi phản ánh" }).click();

    await expect(page).toHaveURL(/\/reports\/[0-9a-f-]{36}$/);
    await expect(page.getByRole("status")).toContainText("Đã gửi phản ánh");
    await expect(page.getByTestId("report-detail")).toContainText("Tin giả");
    const reportId = page.url().split("/").pop() ?? "";

    // Evidence: one image uploads with a progress bar; a file over 10 MB is refused before upload.
    await page.locator("#evidence-input").setInputFiles([
      { name: "anh-chup.png", mimeType: "image/png", buffer: PNG },
    ]);
    await expect(page.getByTestId("evidence-item")).toContainText("anh-chup.png");
    await page.locator("#evidence-input").setInputFiles([
      { name: "qua-lon.pdf", mimeType: "application/pdf", buffer: Buffer.alloc(10_000_001, 0x20) },
    ]);
    await expect(page.getByRole("alert").filter({ hasText: "qua-lon.pdf" })).toContainText("lớn hơn 10 MB");
    // The server's answer is shown too: a text file named .png is not an image.
    await page.locator("#evidence-input").setInputFiles([
      { name: "gia-anh.png", mimeType: "image/png", buffer: Buffer.from("not an image") },
    ]);
    await expect(page.getByTestId("upload-progress").filter({ hasText: "gia-anh.png" }).getByRole("alert")).toBeVisible();
    await expectAccessible(page);
    await capture(page, info, "report-detail");

    // The list of own reports shows it with its status.
    await page.getByRole("link", { name: "Phản ánh" }).first().click();
    await expect(page.getByTestId("report-item").filter({ hasText: url })).toContainText("Đã gửi");

    // reviewer.hn sees it through the API, with the evidence.
    const reviewer = await apiAs(baseURL ?? "", "reviewer.hn");
    const seen = await reviewer.get(`/api/v1/reports/${reportId}`);
    expect(seen.status()).toBe(200);
    expect(((await seen.json()) as { url: string }).url).toBe(url);
    const evidence = (await (await reviewer.get(`/api/v1/reports/${reportId}/evidence`)).json()) as { items: unknown[] };
    expect(evidence.items).toHaveLength(1);

    // Another member, in a browser context of their own, gets "not found".
    const other = await browser.newContext({ viewport: page.viewportSize() ?? undefined });
    const otherPage = await other.newPage();
    await signIn(otherPage, OTHER_MEMBER.username, OTHER_MEMBER.password);
    await otherPage.goto(`/reports/${reportId}`);
    await expect(otherPage.getByRole("alert")).toContainText(/không tồn tại|Không tìm thấy/i);
    await expect(otherPage.getByText(url)).toHaveCount(0);
    await other.close();

    // The reporter withdraws it: the button is there because the server lists the move;
    // once withdrawn, the server lists no move and the button is gone.
    await page.goto(`/reports/${reportId}`);
    await page.getByRole("button", { name: "Rút phản ánh" }).click();
    await page.getByRole("button", { name: "Đồng ý" }).click();
    await expect(page.getByTestId("report-detail")).toContainText("Đã rút");
    await expect(page.getByRole("button", { name: "Rút phản ánh" })).toHaveCount(0);
    const withdrawn = await reviewer.get(`/api/v1/reports/${reportId}`);
    expect(((await withdrawn.json()) as { status: string }).status).toBe("withdrawn");
  });
});
