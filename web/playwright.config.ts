import { defineConfig, devices } from "@playwright/test";

// The OS's Chromium (Debian's `chromium`): Playwright's own browser download is not
// reachable here. PLAYWRIGHT_CHROMIUM overrides the path.
const executablePath = process.env.PLAYWRIGHT_CHROMIUM ?? "/usr/bin/chromium";
const port = Number(process.env.E2E_PORT ?? 18161);
export const baseURL = `http://127.0.0.1:${port}`;

// The scroll budget (e2e/budget.spec.ts) is a measurement, not a check of behaviour: it runs
// only when asked (`npm run bench:scroll`), never in CI, where the machine's load decides it.
const testIgnore = process.env.E2E_BUDGET ? [] : [/budget\.spec\.ts/];

const launchOptions = { executablePath, args: ["--no-sandbox", "--disable-dev-shm-usage"] };

export default defineConfig({
  testDir: "e2e",
  outputDir: "test-results",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [["list"]],
  use: { baseURL, locale: "vi-VN", timezoneId: "Asia/Ho_Chi_Minh", trace: "off", launchOptions },
  webServer: {
    command: `E2E_PORT=${port} bash e2e/server.sh`,
    url: `${baseURL}/healthz`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
  },
  projects: [
    { name: "setup", testMatch: /setup\.ts/ },
    {
      name: "desktop",
      dependencies: ["setup"],
      testMatch: /\.spec\.ts/,
      testIgnore,
      use: { ...devices["Desktop Chrome"], viewport: { width: 1280, height: 800 }, launchOptions },
    },
    {
      name: "phone",
      dependencies: ["setup"],
      testMatch: /\.spec\.ts/,
      testIgnore,
      use: { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2, launchOptions },
    },
  ],
});
