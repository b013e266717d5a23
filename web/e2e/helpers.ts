import AxeBuilder from "@axe-core/playwright";
import { expect, request, type APIRequestContext, type Page, type TestInfo } from "@playwright/test";
import { mkdirSync } from "node:fs";

export const PASSWORD = "qd85-demo-2026";
/** A second plain member, created by setup.ts for the "cannot open another's report" test. */
export const OTHER_MEMBER = { username: "mai.nt", password: "mai-nt-e2e-password" };

export async function signIn(page: Page, username = "an.nv", password = PASSWORD): Promise<void> {
  await page.goto("/sign-in");
  await page.getByLabel("Tên đăng nhập").fill(username);
  await page.getByLabel("Mật khẩu").fill(password);
  await page.getByRole("button", { name: "Đăng nhập" }).click();
  await expect(page).not.toHaveURL(/sign-in/);
}

/** The API as someone else (a reviewer, a manager), with a bearer token. */
export async function apiAs(baseURL: string, username: string, password = PASSWORD): Promise<APIRequestContext> {
  const anon = await request.newContext({ baseURL });
  const res = await anon.post("/api/v1/auth/token", { form: { grant_type: "password", username, password } });
  expect(res.status(), await res.text()).toBe(200);
  const { access_token } = (await res.json()) as { access_token: string };
  await anon.dispose();
  return request.newContext({ baseURL, extraHTTPHeaders: { Authorization: `Bearer ${access_token}` } });
}

/** No serious or critical accessibility violation on the page as it is now. */
export async function expectAccessible(page: Page): Promise<void> {
  // Contrast is judged at rest: wait for fades and slides (toasts, alerts) to finish.
  await page.waitForFunction(
    () =>
      document
        .getAnimations()
        .every((a) => a.playState !== "running" || a.effect?.getTiming().iterations === Infinity),
    undefined,
    { timeout: 5_000 },
  );
  const results = await new AxeBuilder({ page }).analyze();
  const bad = results.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`),
  ).toEqual([]);
}

/** A full-page screenshot per page and viewport, kept as a CI artifact (git-ignored). */
export async function capture(page: Page, info: TestInfo, name: string): Promise<void> {
  mkdirSync("e2e-artifacts", { recursive: true });
  await page.screenshot({ path: `e2e-artifacts/${info.project.name}-${name}.png`, fullPage: true });
}

/** A value unique to this run and project, so the two viewports never collide. */
export function unique(info: TestInfo): string {
  return `${info.project.name}${Date.now().toString(36)}`;
}
