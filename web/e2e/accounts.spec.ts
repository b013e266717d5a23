import { expect, test } from "@playwright/test";

import { capture, expectAccessible, signIn, unique } from "./helpers";

test.describe("journey 2: declare accounts", () => {
  test("a pasted link is declared, the platform inferred and the canonical address shown", async ({ page }, info) => {
    const name = unique(info);
    await signIn(page);
    await page.getByRole("link", { name: "Kê khai" }).first().click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Kê khai");
    await page.getByLabel("Liên kết tới trang / tài khoản").fill(`https://m.facebook.com/Dong.Chi.${name}?ref=bookmarks`);
    await page.getByLabel("Tên hiển thị").fill(`Đồng chí ${name}`);
    await page.getByRole("button", { name: "Kê khai tài khoản" }).click();
    await expect(page.getByTestId("declared-canonical")).toContainText(
      `Đã kê khai. Địa chỉ chuẩn: https://www.facebook.com/dongchi${name.toLowerCase()}`,
    );
    const item = page.getByTestId("account-item").filter({ hasText: `Đồng chí ${name}` });
    await expect(item).toContainText("Facebook");
    await expect(item).toContainText("Chờ xác minh");
    await expectAccessible(page);
    await capture(page, info, "accounts");

    // Close it, then the server says so.
    await item.getByRole("button", { name: "Đóng tài khoản" }).click();
    await page.getByRole("button", { name: "Đồng ý" }).click();
    await expect(item).toContainText("Đã đóng");
  });

  test("field errors appear in place: invalid_account_url and duplicate_account", async ({ page }) => {
    await signIn(page);
    await page.goto("/accounts");
    const url = page.getByLabel("Liên kết tới trang / tài khoản");
    await url.fill("https://www.facebook.com/");
    await page.getByRole("button", { name: "Kê khai tài khoản" }).click();
    // The server's Vietnamese detail, under the field it is about.
    await expect(page.locator("#url_help, .ant-form-item-explain-error").first()).toContainText("Facebook");
    await expect(url).toHaveAttribute("aria-invalid", "true");

    // Another member (DV-HN-0002) declared this profile in the demo seed.
    await url.fill("https://www.facebook.com/profile.php?id=100012345678901");
    await page.getByRole("button", { name: "Kê khai tài khoản" }).click();
    await expect(page.locator(".ant-form-item-explain-error").first()).not.toBeEmpty();
    await expect(url).toHaveAttribute("aria-invalid", "true");
  });

  test("an account can be marked compromised", async ({ page }, info) => {
    const name = unique(info);
    await signIn(page);
    await page.goto("/accounts");
    await page.getByLabel("Liên kết tới trang / tài khoản").fill(`https://www.tiktok.com/@${name}`);
    await page.getByRole("button", { name: "Kê khai tài khoản" }).click();
    await expect(page.getByTestId("declared-canonical")).toContainText("tiktok.com");
    const item = page.getByTestId("account-item").filter({ hasText: name.toLowerCase() });
    await item.getByRole("button", { name: "Báo bị chiếm quyền" }).click();
    await page.getByRole("button", { name: "Đồng ý" }).click();
    await expect(item).toContainText("Bị chiếm quyền");
  });
});

test.describe("conditional writes", () => {
  test("a write on a record someone else changed offers a reload (412)", async ({ page, browser }, info) => {
    const name = unique(info);
    await signIn(page);
    await page.goto("/accounts");
    await page.getByLabel("Liên kết tới trang / tài khoản").fill(`https://www.youtube.com/@${name}`);
    await page.getByRole("button", { name: "Kê khai tài khoản" }).click();
    const item = page.getByTestId("account-item").filter({ hasText: name.toLowerCase() });
    await expect(item).toContainText("Chờ xác minh");

    // The same member, in another browser, closes the account meanwhile.
    const other = await browser.newContext({ viewport: page.viewportSize() ?? undefined });
    const otherPage = await other.newPage();
    await signIn(otherPage);
    await otherPage.goto("/accounts");
    const there = otherPage.getByTestId("account-item").filter({ hasText: name.toLowerCase() });
    await there.getByRole("button", { name: "Đóng tài khoản" }).click();
    await otherPage.getByRole("button", { name: "Đồng ý" }).click();
    await expect(there).toContainText("Đã đóng");
    await other.close();

    // This page still shows the old version: the write is refused and a reload offered.
    await item.getByRole("button", { name: "Báo bị chiếm quyền" }).click();
    await page.getByRole("button", { name: "Đồng ý" }).click();
    const dialog = page.getByRole("dialog").filter({ hasText: "Bản ghi đã được thay đổi" });
    await expect(dialog).toContainText("Người khác đã thay đổi bản ghi này");
    await dialog.getByRole("button", { name: "Tải lại" }).click();
    await expect(item).toContainText("Đã đóng");
  });
});
