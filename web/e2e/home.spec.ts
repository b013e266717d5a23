import { expect, test } from "@playwright/test";

import { capture, expectAccessible, signIn } from "./helpers";

test.describe("journey 1: sign in and the home page", () => {
  test("a wrong password shows the server's problem in Vietnamese", async ({ page }, info) => {
    await page.goto("/");
    await expect(page).toHaveURL(/sign-in/);
    await expectAccessible(page);
    await capture(page, info, "sign-in");
    await page.getByLabel("Tên đăng nhập").fill("an.nv");
    await page.getByLabel("Mật khẩu").fill("wrong-password");
    await page.getByRole("button", { name: "Đăng nhập" }).click();
    await expect(page.getByRole("alert")).toContainText("Sai tên đăng nhập hoặc mật khẩu");
  });

  test("the member's home shows declaration, what is due, accounts and reports from /me", async ({ page }, info) => {
    await signIn(page);
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Xin chào đồng chí Nguyễn Văn An");
    await expect(page.getByTestId("home-declaration")).toContainText("Đã khai báo");
    await expect(page.getByTestId("home-due")).toContainText("85-QĐ/TW");
    await expect(page.getByTestId("home-due")).toContainText("Xác nhận đã học tập trước");
    await expect(page.getByTestId("home-accounts")).toContainText("facebook.com/nguyenvananbadinh");
    await expect(page.getByTestId("home-accounts")).toContainText("Chờ xác minh");
    await expect(page.getByTestId("home-reports")).toContainText("tin-nong-24h.example.com.vn");
    await expectAccessible(page);
    await capture(page, info, "home");
  });

  test("English is one click away, and the server answers in English too", async ({ page }) => {
    await signIn(page);
    await page.getByRole("button", { name: /EN/ }).click();
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Welcome, Nguyễn Văn An");
    await expect(page.getByTestId("home-accounts")).toContainText("Pending"); // enum label from /meta/enums
    await page.getByRole("button", { name: /VI/ }).click();
  });

  test("a reload keeps the session (refresh token in sessionStorage), sign-out ends it", async ({ page }) => {
    await signIn(page);
    await page.reload();
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Nguyễn Văn An");
    const stored = await page.evaluate(() => ({ session: Object.keys(sessionStorage), local: Object.keys(localStorage) }));
    expect(stored.session).toContain("qd85.refresh");
    expect(stored.local.filter((k) => k.includes("refresh") || k.includes("token"))).toEqual([]);
    await page.getByRole("button", { name: "Đăng xuất" }).click();
    await expect(page).toHaveURL(/sign-in/);
    expect(await page.evaluate(() => sessionStorage.getItem("qd85.refresh"))).toBeNull();
  });
});
