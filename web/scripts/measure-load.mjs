// Load-time budget figures (recorded in README.md; not a timed test). Against a running
// qd85 serve with the built SPA and the demo seed:
//   node scripts/measure-load.mjs http://127.0.0.1:18163
// Prints the median of 7 cold loads (a fresh browser context each, so no cache) of:
//   - the floor: index.html alone, scripts disabled (load event);
//   - the member home, signed in (a refresh token in sessionStorage, as after a reload):
//     navigation start until the home's heading is on screen, i.e. the refresh, GET /me
//     and GET /meta/enums answered and rendered.
import { chromium } from "@playwright/test";

const base = process.argv[2] ?? "http://127.0.0.1:18163";
const runs = 7;
const browser = await chromium.launch({ executablePath: process.env.PLAYWRIGHT_CHROMIUM ?? "/usr/bin/chromium", args: ["--no-sandbox"] });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function refreshToken() {
  const res = await fetch(`${base}/api/v1/auth/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "password", username: "an.nv", password: "qd85-demo-2026" }),
  });
  return (await res.json()).refresh_token;
}

const floor = [];
const home = [];
for (let i = 0; i < runs; i++) {
  const bare = await browser.newContext({ javaScriptEnabled: false });
  const p1 = await bare.newPage();
  await p1.goto(`${base}/`, { waitUntil: "load" });
  floor.push(await p1.evaluate(() => performance.getEntriesByType("navigation")[0].loadEventEnd));
  await bare.close();

  const token = await refreshToken();
  const ctx = await browser.newContext({ viewport: { width: 360, height: 740 } });
  await ctx.addInitScript((t) => sessionStorage.setItem("qd85.refresh", t), token);
  const p2 = await ctx.newPage();
  await p2.goto(`${base}/`);
  await p2.getByRole("heading", { level: 1, name: /Nguyễn Văn An/ }).waitFor();
  home.push(await p2.evaluate(() => performance.now()));
  await ctx.close();
}
await browser.close();
console.log(`index.html alone (floor): median ${median(floor).toFixed(0)} ms  [${floor.map((x) => x.toFixed(0)).join(", ")}]`);
console.log(`member home interactive:  median ${median(home).toFixed(0)} ms  [${home.map((x) => x.toFixed(0)).join(", ")}]`);
