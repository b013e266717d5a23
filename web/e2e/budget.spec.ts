import { expect, test } from "@playwright/test";

import { signIn } from "./helpers";

// Budget (issue 17): a members table of 2,000 loaded rows scrolls without long tasks over
// 50 ms, measured in Chromium with the Performance API (PerformanceObserver "longtask").
// The rows come from page.route (10 pages of 200, as the API pages them), not from the
// server: the budget is the table's, and seeding 2,000 members per run would be slow.
const PAGES = 10;
const SIZE = 200;
const FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Vũ", "Đặng", "Bùi", "Đỗ"];
const MIDDLE = ["Văn", "Thị", "Minh", "Thu", "Đức", "Ngọc", "Quang", "Thanh"];
const GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Mai", "Nam", "Oanh", "Phúc", "Quân", "Sơn", "Tâm", "Uyên", "Vinh", "Yến"];
const STATUSES = ["active", "active", "active", "exempt", "transferred"];
const DECLARATIONS = ["declared", "not_declared", "declared_none"];

function member(n: number) {
  const hex = n.toString(16).padStart(12, "0");
  return {
    id: `00000000-0000-4000-8000-${hex}`,
    external_id: `DV-PERF-${n}`,
    full_name: `${FAMILY[n % FAMILY.length]} ${MIDDLE[n % MIDDLE.length]} ${GIVEN[n % GIVEN.length]}`,
    unit_id: "00000000-0000-4000-8000-000000000001",
    membership: n % 7 === 0 ? "probationary" : "official",
    status: STATUSES[n % STATUSES.length],
    position: n % 5 === 0 ? "Bí thư chi bộ" : "Đảng viên",
    is_leader: n % 5 === 0,
    email: null,
    phone: null,
    declaration: DECLARATIONS[n % DECLARATIONS.length],
    declared_at: null,
    version: 1,
    created_at: "2026-12-01T00:00:00Z",
    updated_at: "2026-12-01T00:00:00Z",
  };
}

test.describe("budget: the members table", () => {
  test("2,000 loaded rows scroll without long tasks over 50 ms", async ({ page }, info) => {
    test.skip(info.project.name !== "desktop", "measured once, at the desktop viewport");
    test.setTimeout(120_000);
    await page.route(/\/api\/v1\/members\?/, async (route) => {
      const cursor = new URL(route.request().url()).searchParams.get("cursor");
      const index = cursor ? Number(cursor.slice(1)) : 0;
      const items = Array.from({ length: SIZE }, (_, k) => member(index * SIZE + k));
      await route.fulfill({ json: { items, next_cursor: index + 1 < PAGES ? `p${index + 1}` : null } });
    });
    await signIn(page, "manager.hn");
    await page.goto("/workspace/members");
    const count = page.getByTestId("members-count");
    await expect(count).toContainText("Đã tải 200 người");

    // Scrolling to the end of the loaded rows fetches the next page by itself.
    const table = page.getByTestId("members-table").locator(".ant-table-body, .ant-table-tbody-virtual").first();
    await table.hover();
    for (let i = 0; i < 40; i += 1) await page.mouse.wheel(0, 600);
    await expect.poll(async () => Number(/Đã tải (\d+)/.exec((await count.textContent()) ?? "")?.[1])).toBeGreaterThanOrEqual(400);
    // The rest by "load more", up to 2,000.
    const more = page.getByRole("button", { name: "Tải thêm" });
    while (await more.isVisible()) {
      await more.click();
      await page.waitForTimeout(50);
    }
    await expect(count).toHaveText("Đã tải 2000 người.");

    // Scroll the 2,000 rows top to bottom and back with the wheel, recording long tasks.
    await page.evaluate(() => {
      const w = window as unknown as { __long: number[] };
      w.__long = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__long.push(e.duration);
      }).observe({ type: "longtask", buffered: false });
    });
    // Control: the same observer on the idle page, to tell the machine's load from the table.
    await page.waitForTimeout(3000);
    const idle = await page.evaluate(() => (window as unknown as { __long: number[] }).__long.splice(0));
    console.log(`idle 3 s: ${idle.length} long tasks ${JSON.stringify(idle.map(Math.round))}`);
    await table.hover();
    const started = Date.now();
    for (let i = 0; i < 150; i += 1) {
      await page.mouse.wheel(0, 520);
      await page.waitForTimeout(16);
    }
    for (let i = 0; i < 150; i += 1) {
      await page.mouse.wheel(0, -520);
      await page.waitForTimeout(16);
    }
    const elapsed = Date.now() - started;
    // Let the last frames land, then read what the observer saw.
    await page.waitForTimeout(300);
    const long = await page.evaluate(() => (window as unknown as { __long: number[] }).__long);
    const rowsSeen = await page.getByTestId("members-table").locator(".ant-table-row").count();
    const worst = long.length ? Math.max(...long) : 0;
    console.log(`members table, 2000 rows: ${long.length} long tasks while scrolling ${elapsed} ms (worst ${worst.toFixed(0)} ms); ${rowsSeen} rows in the DOM`);
    info.annotations.push({ type: "longtasks", description: JSON.stringify({ count: long.length, worst, elapsed, rowsSeen }) });
    // Virtualised: only the rows in view are in the DOM.
    expect(rowsSeen).toBeLessThan(100);
    expect(long.filter((d) => d > 50)).toEqual([]);
  });
});
