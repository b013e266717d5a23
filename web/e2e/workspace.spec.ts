import { expect, test, type Browser, type Page, type TestInfo } from "@playwright/test";

import { apiAs, capture, expectAccessible, PASSWORD, signIn, unique } from "./helpers";
import { openArea } from "./workspace";

/** A signed-in page in a browser context of its own, at the test's viewport. */
async function session(browser: Browser, page: Page, username: string, password = PASSWORD): Promise<Page> {
  const context = await browser.newContext({ viewport: page.viewportSize() ?? undefined, locale: "vi-VN", timezoneId: "Asia/Ho_Chi_Minh" });
  const other = await context.newPage();
  await signIn(other, username, password);
  return other;
}

async function shot(page: Page, info: TestInfo, name: string): Promise<void> {
  await expectAccessible(page);
  await capture(page, info, name);
}

test.describe("journey 5: the committee workspace", () => {
  // Two or three browser contexts per test, on 2 shared cores.
  test.setTimeout(180_000);
  test("navigation follows the roles: a plain member has no workspace, a reviewer no account review", async ({ page, browser }) => {
    await signIn(page); // an.nv: a plain member
    await expect(page.getByRole("heading", { level: 1 })).toContainText("Nguyễn Văn An");
    await expect(page.getByRole("navigation", { name: "Công tác cấp ủy" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Thêm" })).toHaveCount(0);

    const reviewer = await session(browser, page, "reviewer.hn");
    await expect(reviewer.locator("#workspace-nav")).toBeAttached();
    const more = reviewer.getByRole("button", { name: "Thêm" });
    if (await more.isVisible()) await more.click();
    const nav = reviewer.getByRole("navigation", { name: "Công tác cấp ủy" });
    await expect(nav.getByRole("link", { name: "Xử lý phản ánh" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Đảng viên" })).toBeVisible();
    await expect(nav.getByRole("link", { name: "Xác nhận kê khai" })).toHaveCount(0);
    await reviewer.context().close();
  });

  test("a member declares a page and the manager verifies it; a manager's own account offers no verify", async ({
    page,
    browser,
    baseURL,
  }, info) => {
    const tag = unique(info).toLowerCase();
    // The member declares a page.
    await signIn(page);
    await page.goto("/accounts");
    await page.getByLabel("Liên kết tới trang / tài khoản").fill(`https://www.facebook.com/trang.e2e.${tag}`);
    await page.getByLabel("Tên hiển thị").fill(`Trang ${tag}`);
    await page.getByRole("button", { name: "Kê khai tài khoản" }).click();
    await expect(page.getByTestId("declared-canonical")).toBeVisible();

    // The manager finds it in the queue and verifies it.
    const manager = await session(browser, page, "manager.hn");
    await openArea(manager, "Xác nhận kê khai");
    await expect(manager.getByRole("heading", { level: 1 })).toHaveText("Xác nhận kê khai");
    await manager.getByRole("searchbox", { name: "Tìm theo tên hoặc địa chỉ" }).fill(`trang.e2e.${tag}`);
    await manager.getByRole("searchbox", { name: "Tìm theo tên hoặc địa chỉ" }).press("Enter");
    const item = manager.getByTestId("review-item").filter({ hasText: `Trang ${tag}` });
    await expect(item).toContainText("Nguyễn Văn An");
    const link = item.getByRole("link", { name: `Trang ${tag}` });
    await expect(link).toHaveAttribute("target", "_blank");
    await expect(link).toHaveAttribute("rel", "noopener noreferrer");
    await shot(manager, info, "review");
    await item.getByRole("button", { name: "Xác nhận" }).click();
    await manager.getByRole("dialog").getByLabel("Ghi chú (không bắt buộc)").fill("Đúng trang của đồng chí");
    await manager.getByRole("dialog").getByRole("button", { name: "Xác nhận" }).click();
    await expect(item).toHaveCount(0);

    // The member sees it verified.
    await page.reload();
    await expect(page.getByTestId("account-item").filter({ hasText: `Trang ${tag}` })).toContainText("Đã xác minh");

    // manager.hn's own declaration: listed, but no verify action.
    const api = await apiAs(baseURL ?? "", "manager.hn");
    const me = (await (await api.get("/api/v1/auth/me")).json()) as { member_id: string };
    const own = await api.post(`/api/v1/members/${me.member_id}/accounts`, {
      data: { url: `https://www.facebook.com/quanly.e2e.${tag}`, kind: "profile", purpose: "personal", display_name: `Quản lý ${tag}` },
    });
    expect(own.status(), await own.text()).toBe(201);
    await manager.getByRole("searchbox", { name: "Tìm theo tên hoặc địa chỉ" }).fill(`quanly.e2e.${tag}`);
    await manager.getByRole("searchbox", { name: "Tìm theo tên hoặc địa chỉ" }).press("Enter");
    const ownItem = manager.getByTestId("review-item").filter({ hasText: `Quản lý ${tag}` });
    await expect(ownItem).toContainText("Tài khoản của đồng chí");
    await expect(ownItem.getByRole("button", { name: "Xác nhận" })).toHaveCount(0);

    // Forced (a client that does not know whose account it is): the server's 403 is shown.
    await manager.route("**/api/v1/auth/me", async (route) => {
      const response = await route.fetch();
      const body = (await response.json()) as Record<string, unknown>;
      await route.fulfill({ response, json: { ...body, member_id: null } });
    });
    await manager.reload();
    await manager.getByRole("searchbox", { name: "Tìm theo tên hoặc địa chỉ" }).fill(`quanly.e2e.${tag}`);
    await manager.getByRole("searchbox", { name: "Tìm theo tên hoặc địa chỉ" }).press("Enter");
    await ownItem.getByRole("button", { name: "Xác nhận" }).click();
    await manager.getByRole("dialog").getByRole("button", { name: "Xác nhận" }).click();
    await expect(manager.getByRole("dialog").getByRole("alert")).toBeVisible();
    const still = (await (await api.get(`/api/v1/accounts/${((await own.json()) as { id: string }).id}`)).json()) as { status: string };
    expect(still.status).toBe("pending");
    await manager.context().close();
  });

  test("a report goes from the member to the reviewer (review, escalate) and the manager (resolve); the member sees each state", async ({
    page,
    browser,
  }, info) => {
    const tag = unique(info).toLowerCase();
    const url = `https://www.facebook.com/tin.xau.${tag}/posts/987654`;
    await signIn(page);
    await page.goto("/reports/new");
    await page.getByLabel("Liên kết tới nội dung").fill(url);
    await page.getByLabel("Loại thông tin").click();
    await page.getByTitle("Xuyên tạc, chống phá", { exact: false }).first().click();
    await page.getByLabel("Mô tả").fill("Bài viết xuyên tạc chủ trương, cần phản bác.");
    await page.getByLabel("Đề xuất xử lý").click();
    await page.getByTitle("Chuyển cơ quan chức năng").click();
    await page.getByRole("button", { name: "Gửi phản ánh" }).click();
    await expect(page).toHaveURL(/\/reports\/[0-9a-f-]{36}$/);
    const reportId = page.url().split("/").pop() ?? "";
    const home = async (status: string) => {
      await page.goto("/");
      await expect(page.getByTestId("home-reports").getByRole("listitem").filter({ hasText: url })).toContainText(status);
    };
    await home("Đã gửi");

    // The reviewer finds it in the queue (nearest deadline first) and takes it into review.
    const reviewer = await session(browser, page, "reviewer.hn");
    await openArea(reviewer, "Xử lý phản ánh");
    const queued = reviewer.getByTestId("case-item").filter({ hasText: url });
    await expect(queued).toContainText("Đã gửi");
    await shot(reviewer, info, "case-queue");
    await queued.getByRole("link").click();
    await expect(reviewer).toHaveURL(new RegExp(`/workspace/reports/${reportId}$`));
    // The reporter is not named to the handler unless the API includes it.
    await reviewer.getByRole("button", { name: "Nhận xử lý" }).click();
    await expect(reviewer.getByTestId("assignee")).toHaveText("Giao cho tôi");
    await reviewer.getByRole("button", { name: "Chuyển sang “Đang xem xét”" }).click();
    await reviewer.getByRole("dialog").getByLabel("Ý kiến (không bắt buộc)").fill("Đang xác minh nội dung");
    await reviewer.getByRole("dialog").getByRole("button", { name: "Xác nhận" }).click();
    await expect(reviewer.getByTestId("case-detail")).toContainText("Đang xem xét");
    await home("Đang xem xét");

    // Escalate: the form asks exactly for the authority and the reference.
    await reviewer.getByRole("button", { name: "Chuyển sang “Đã chuyển cơ quan chức năng”" }).click();
    // The review dialog has closed (antd animates it out) and the escalation form is shown.
    const dialog = reviewer.getByRole("dialog");
    await expect(dialog).toHaveCount(1);
    await expect(dialog.getByLabel("Cơ quan chức năng")).toBeVisible();
    await expect(dialog.getByLabel("Kết quả xử lý")).toHaveCount(0);
    await dialog.getByRole("button", { name: "Xác nhận" }).click();
    await expect(dialog.locator(".ant-form-item-explain-error")).toHaveCount(2);
    await dialog.getByLabel("Cơ quan chức năng").fill("Công an thành phố Hà Nội");
    await dialog.getByLabel("Số văn bản chuyển").fill(`CV-${tag}`);
    await shot(reviewer, info, "case-escalate");
    await dialog.getByRole("button", { name: "Xác nhận" }).click();
    await expect(reviewer.getByTestId("case-detail")).toContainText("Công an thành phố Hà Nội");
    await expect(reviewer.getByTestId("case-timeline")).toContainText("Đã chuyển cơ quan chức năng");
    await shot(reviewer, info, "case-detail");
    await home("Đã chuyển cơ quan chức năng");
    await reviewer.context().close();

    // The manager resolves it with an outcome.
    const manager = await session(browser, page, "manager.hn");
    await manager.goto(`/workspace/reports/${reportId}`);
    await manager.getByRole("button", { name: "Chuyển sang “Đã xử lý”" }).click();
    const resolve = manager.getByRole("dialog");
    await expect(resolve.getByLabel("Cơ quan chức năng")).toHaveCount(0);
    await resolve.getByLabel("Kết quả xử lý").click();
    await manager.getByTitle("Đã gỡ bỏ").click();
    await resolve.getByRole("button", { name: "Xác nhận" }).click();
    await expect(manager.getByTestId("case-detail")).toContainText("Đã gỡ bỏ");
    await expect(manager.getByTestId("case-handling")).toContainText("không có bước xử lý nào");
    await home("Đã xử lý");
    await manager.context().close();
  });

  test("two managers edit one member: the second gets the 412 explanation and reloads", async ({ page, browser, baseURL }, info) => {
    const tag = unique(info).toLowerCase();
    // A second manager of the same unit.
    const admin = await apiAs(baseURL ?? "", "admin");
    const hn = (await (await admin.get("/api/v1/units", { params: { q: "HN" } })).json()) as { items: { id: string; code: string }[] };
    const unitId = hn.items.find((u) => u.code === "HN")?.id;
    const created = await admin.post("/api/v1/users", {
      data: { username: `ql2.${tag}`, password: "second-manager-pw", grants: [{ role: "manager", unit_id: unitId }] },
    });
    expect(created.status(), await created.text()).toBe(201);

    await signIn(page, "manager.hn");
    await openArea(page, "Đảng viên");
    await page.getByRole("searchbox", { name: "Tìm theo họ tên" }).fill("ngo thi mai");
    await page.getByRole("searchbox", { name: "Tìm theo họ tên" }).press("Enter");
    await page.getByRole("link", { name: "Ngô Thị Mai" }).click();
    const memberUrl = page.url();
    const second = await session(browser, page, `ql2.${tag}`, "second-manager-pw");
    await second.goto(memberUrl);

    await page.getByRole("button", { name: "Sửa thông tin" }).click();
    await second.getByRole("button", { name: "Sửa thông tin" }).click();
    await page.getByLabel("Chức vụ").fill(`Phó bí thư ${tag}`);
    await page.getByRole("button", { name: "Lưu thay đổi" }).click();
    await expect(page.getByTestId("member-detail")).toContainText(`Phó bí thư ${tag}`);

    await second.getByLabel("Chức vụ").fill(`Chi ủy viên ${tag}`);
    await second.getByRole("button", { name: "Lưu thay đổi" }).click();
    const stale = second.getByRole("dialog").filter({ hasText: "Bản ghi đã được thay đổi" });
    await expect(stale).toContainText("Người khác đã thay đổi bản ghi này");
    await expectAccessible(second);
    await capture(second, info, "member-412");
    await stale.getByRole("button", { name: "Tải lại" }).click();
    await expect(second.getByLabel("Chức vụ")).toHaveValue(`Phó bí thư ${tag}`);
    await second.context().close();
  });

  test("roster and units: search without diacritics, filters, member detail, unit tree", async ({ page }, info) => {
    await signIn(page, "manager.hn");
    await openArea(page, "Đảng viên");
    await expect(page.getByRole("heading", { level: 1 })).toHaveText("Danh sách đảng viên");
    await expect(page.getByTestId("members-count")).toContainText("Đã tải");
    await shot(page, info, "members");
    await page.getByRole("searchbox", { name: "Tìm theo họ tên" }).fill("nguyen van an");
    await page.getByRole("searchbox", { name: "Tìm theo họ tên" }).press("Enter");
    await expect(page).toHaveURL(/q=nguyen\+van\+an/);
    await expect(page.getByRole("link", { name: "Nguyễn Văn An" })).toBeVisible();
    await page.getByRole("link", { name: "Nguyễn Văn An" }).click();
    await expect(page.getByTestId("member-accounts")).toContainText("facebook.com");
    await expect(page.getByTestId("member-audit")).toBeVisible();
    await shot(page, info, "member");

    await openArea(page, "Đơn vị");
    await expect(page.getByTestId("unit-tree")).toContainText("HN");
    await page.getByRole("searchbox", { name: "Tìm đơn vị theo mã hoặc tên" }).fill("HN");
    await page.getByRole("searchbox", { name: "Tìm đơn vị theo mã hoặc tên" }).press("Enter");
    await page.getByTestId("unit-results").getByRole("button").first().click();
    await expect(page.getByTestId("unit-detail")).toContainText("Mã đơn vị");
    await shot(page, info, "units");
    await page.getByRole("link", { name: "Xem danh sách đảng viên" }).click();
    await expect(page).toHaveURL(/workspace\/members\?unit=/);
    await expect(page.getByTestId("members-count")).toContainText("Đã tải");
  });
});
