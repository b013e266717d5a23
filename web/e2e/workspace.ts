import { expect, type Page } from "@playwright/test";

/** Choose in an antd Select found by its label: type `search`, click the option holding
 * `option` (the options live in a popup outside the field). */
export async function pick(page: Page, label: string | RegExp, search: string, option: string | RegExp): Promise<void> {
  const field = page.getByLabel(label);
  await field.click();
  if (search) await field.fill(search);
  const item = page.locator(".ant-select-dropdown:visible .ant-select-item-option").filter({ hasText: option }).first();
  await expect(item).toBeVisible();
  await item.click();
}

/** Open a workspace area from the navigation (the bottom bar on a phone scrolls). */
export async function openArea(page: Page, name: string): Promise<void> {
  const link = page.getByRole("navigation").getByRole("link", { name });
  await link.scrollIntoViewIfNeeded();
  await link.click();
}
