import { expect, request, test } from "@playwright/test";

import { capture, expectAccessible, signIn, unique } from "./helpers";
import { openArea, pick } from "./workspace";

test.describe("workspace: administration", () => {
  test("an admin creates an API client; the secret shown once works for client_credentials", async ({ page, baseURL }, info) => {
    const name = `Hệ thống thống kê ${unique(info)}`;
    await signIn(page, "admin");
    await openArea(page, "Quản trị");
    await expect(page.getByRole("heading", { name: "Quản trị" })).toBeVisible();
    await expect(page.getByTestId("user-item").filter({ hasText: "manager.hn" })).toBeVisible();
    await expectAccessible(page);
    await capture(page, info, "admin-users");

    await page.getByRole("button", { name: "Ứng dụng kết nối" }).click();
    await page.getByLabel("Tên ứng dụng").fill(name);
    await pick(page, "Vai trò", "", "Thống kê");
    await pick(page, "Đơn vị", "HN", "HN — Đảng bộ Thành phố Hà Nội");
    await page.getByRole("button", { name: "Tạo ứng dụng" }).click();
    const dialog = page.getByRole("dialog");
    await expect(dialog).toContainText("chỉ hiển thị một lần");
    const clientId = (await dialog.getByTestId("client-id").textContent())?.trim() ?? "";
    const secret = (await dialog.getByTestId("client-secret").textContent())?.trim() ?? "";
    expect(clientId).not.toBe("");
    expect(secret.length).toBeGreaterThan(20);
    await expectAccessible(page);
    await capture(page, info, "admin-secret");
    await dialog.getByRole("button", { name: "Tôi đã lưu mã bí mật" }).click();
    await expect(page.getByTestId("client-item").filter({ hasText: name })).toBeVisible();
    await expect(page.getByText(secret)).toHaveCount(0); // shown once only

    const anon = await request.newContext({ baseURL });
    const token = await anon.post("/api/v1/auth/token", {
      form: { grant_type: "client_credentials", client_id: clientId, client_secret: secret },
    });
    expect(token.status(), await token.text()).toBe(200);
    const { access_token, scope } = (await token.json()) as { access_token: string; scope: string };
    expect(scope).toBe("analyst");
    const stats = await anon.get("/api/v1/stats/compliance", { headers: { Authorization: `Bearer ${access_token}` } });
    expect(stats.status()).toBe(200);
    const wrong = await anon.post("/api/v1/auth/token", {
      form: { grant_type: "client_credentials", client_id: clientId, client_secret: `${secret}x` },
    });
    expect(wrong.status()).toBe(401);
    await anon.dispose();

    // The audit log lists the creation.
    await page.getByRole("button", { name: "Nhật ký hoạt động" }).click();
    await page.getByLabel("Loại đối tượng").fill("client");
    await page.getByRole("button", { name: "Lọc" }).click();
    await expect(page.getByTestId("audit-row").first()).toContainText("client");
    await expectAccessible(page);
    await capture(page, info, "admin-audit");
  });
});
