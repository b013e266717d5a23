import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";

import { apiAs, capture, expectAccessible, signIn } from "./helpers";
import { openArea } from "./workspace";

interface Row {
  unit_code: string | null;
  is_total: boolean;
  members_active: number;
  members_declared: number;
  declaration_rate: number | null;
  accounts_total: number;
  reports_open: number;
  reports_overdue: number;
  reports_resolved: number;
}

/** The workbook's one sheet as objects keyed by the header row, read with openpyxl. */
function readXlsx(path: string): Record<string, unknown>[] {
  const script = [
    "import json, sys, openpyxl",
    "ws = openpyxl.load_workbook(sys.argv[1], read_only=True).worksheets[0]",
    "rows = list(ws.iter_rows(values_only=True))",
    "print(json.dumps([dict(zip(rows[0], r)) for r in rows[1:]], default=str))",
  ].join("\n");
  return JSON.parse(execFileSync("../.venv/bin/python", ["-c", script, path], { encoding: "utf8" })) as Record<string, unknown>[];
}

test.describe("workspace: statistics", () => {
  test("an analyst sees the figures and charts, drills down, and the XLSX holds the API's figures", async ({ page, baseURL }, info) => {
    await signIn(page, "analyst");
    await openArea(page, "Thống kê");
    await expect(page.getByRole("heading", { name: "Thống kê" })).toBeVisible();
    await expect(page.getByTestId("as-of")).toContainText("Ban Chấp hành Trung ương — số liệu tính đến");
    await expect(page.getByTestId("rate-chart")).toBeVisible();
    await expect(page.getByTestId("series-chart")).toBeVisible();
    const rows = page.getByTestId("stats-row");
    await expect(rows.filter({ hasText: "Đảng bộ Thành phố Hà Nội" })).toBeVisible();
    await expect(rows.filter({ hasText: "Tổng cộng" })).toBeVisible();
    // The navigation shows an analyst statistics only among the workspace areas.
    await expect(page.getByRole("navigation").getByRole("link", { name: "Quản trị" })).toHaveCount(0);
    await expect(page.getByRole("navigation").getByRole("link", { name: "Đồng bộ danh sách" })).toHaveCount(0);
    await expectAccessible(page);
    await capture(page, info, "stats");

    const analyst = await apiAs(baseURL ?? "", "analyst");
    const api = (await (await analyst.get("/api/v1/stats/compliance")).json()) as { rows: Row[] };
    const total = api.rows.find((r) => r.is_total);
    expect(total?.members_active).toBeGreaterThan(0);
    await expect(rows.filter({ hasText: "Tổng cộng" })).toContainText(String(total?.members_active));

    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Tải Excel (XLSX)" }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/\.xlsx$/);
    const path = info.outputPath("stats.xlsx");
    await file.saveAs(path);
    const sheet = readXlsx(path);
    expect(sheet).toHaveLength(api.rows.length);
    for (const row of api.rows) {
      const line = sheet.find((s) => (row.is_total ? s.is_total === true || s.is_total === "True" || s.is_total === 1 : s.unit_code === row.unit_code));
      expect(line, `xlsx row for ${row.unit_code ?? "total"}`).toBeTruthy();
      for (const key of ["members_active", "members_declared", "accounts_total", "reports_open", "reports_overdue", "reports_resolved"] as const) {
        expect(Number(line?.[key]), `${key} of ${row.unit_code ?? "total"}`).toBe(row[key]);
      }
      if (row.declaration_rate !== null) expect(Number(line?.declaration_rate)).toBeCloseTo(row.declaration_rate, 6);
    }

    // Drill down into Hà Nội: its children, and its own figures.
    await rows.filter({ hasText: "Đảng bộ Thành phố Hà Nội" }).getByRole("button").click();
    await expect(page.getByTestId("as-of")).toContainText("Đảng bộ Thành phố Hà Nội — số liệu tính đến");
    await expect(rows.filter({ hasText: "Đảng bộ phường Ba Đình" })).toBeVisible();
    await page.locator("label.ant-radio-button-wrapper").filter({ hasText: "Tháng" }).click();
    await expect(page.getByRole("radio", { name: "Tháng" })).toBeChecked();
    await expect(page.getByTestId("series-chart")).toBeVisible();
    await expectAccessible(page);
    await capture(page, info, "stats-drill");
    await analyst.dispose();
  });
});
