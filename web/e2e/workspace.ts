import { expect, type Page } from "@playwright/test";

/** Choose in an antd Select found by its accessible name: type `search`, click the option
 * holding `option` (the options live in a popup outside the field). The popup opens with an
 * animation, so a click that lands before it settles is tried again. */
export async function pick(page: Page, label: string | RegExp, search: string, option: string | RegExp): Promise<void> {
  const field = page.getByRole("combobox", { name: label });
  await expect(async () => {
    await field.click();
    if (search) await field.fill(search);
    const item = page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter({ hasText: option }).first();
    await expect(item).toBeVisible({ timeout: 3_000 });
    await page.waitForTimeout(300); // the popup's slide-in
    await item.click({ timeout: 3_000 });
    await expect(page.locator(".ant-select-dropdown:visible")).toHaveCount(0, { timeout: 3_000 });
  }).toPass({ timeout: 20_000 });
}

/** Open a workspace area from the navigation: a second row on desktop, "Thêm" on phones. */
export async function openArea(page: Page, name: string): Promise<void> {
  // The entries come with /auth/me; on phones they sit behind "Thêm".
  await expect(page.locator("#workspace-nav")).toBeAttached();
  const more = page.getByRole("button", { name: "Thêm" });
  if (await more.isVisible()) await more.click();
  await page.getByRole("navigation", { name: "Công tác cấp ủy" }).getByRole("link", { name }).click();
}
