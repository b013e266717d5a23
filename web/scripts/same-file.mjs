// Fails (exit 1) when the committed generated API types differ from a fresh generation:
// the OpenAPI document changed and `npm run gen:api` was not run.
import { readFileSync } from "node:fs";

const [committed, fresh] = process.argv.slice(2);
if (readFileSync(committed, "utf8") !== readFileSync(fresh, "utf8")) {
  console.error(`${committed} is out of date with ../openapi/openapi.json: run \`npm run gen:api\` and commit it.`);
  process.exit(1);
}
console.log(`${committed} matches ../openapi/openapi.json`);
