import js from "@eslint/js";
import reactHooks from "eslint-plugin-react-hooks";
import globals from "globals";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist", "node_modules", "src/api/schema.d.ts", "test-results", "playwright-report", "e2e-artifacts"] },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ["**/*.{ts,tsx,js,mjs}"],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { "react-hooks": reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      // A screen never calls fetch itself: only the client layer (src/api) does.
      "no-restricted-globals": ["error", { name: "fetch", message: "Use the client in src/api." }],
    },
  },
  {
    files: ["src/api/**", "e2e/**", "scripts/**"],
    rules: { "no-restricted-globals": "off" },
  },
);
