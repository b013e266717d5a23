// The first-load budget: the JavaScript and CSS that index.html loads (the entry chunk and
// what it preloads) hold sign-in and the member home; every other page is a lazy chunk.
// Prints the gzip size and fails above the budget (250 KB gzip).
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";

const BUDGET = 250 * 1024;
const html = readFileSync("dist/index.html", "utf8");
const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
let js = 0;
let css = 0;
for (const file of files) {
  const size = gzipSync(readFileSync(`dist/${file}`), { level: 9 }).length;
  if (file.endsWith(".js")) js += size;
  else css += size;
  console.log(`${file}: ${(size / 1024).toFixed(1)} KB gzip`);
}
console.log(`first load (sign-in + member home): ${(js / 1024).toFixed(1)} KB JS + ${(css / 1024).toFixed(1)} KB CSS, gzip; budget ${BUDGET / 1024} KB JS`);
if (js > BUDGET) {
  console.error("over the budget: split the new code into a lazy chunk");
  process.exit(1);
}
