// Lint rules for tsyft (see CONTRIBUTING.md). Formatting is Prettier's job, so the
// stylistic rules that would fight it are off (eslint-config-prettier).
import js from "@eslint/js";
import prettier from "eslint-config-prettier";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  { ignores: ["dist/", "build/", "out/", "node_modules/", "data/", "notebooks/", "src/ring/wasm/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/no-explicit-any": "error",
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
      "no-constant-condition": ["error", { checkLoops: false }],
      // Heavy or optional modules (vega, tslab's internals, the wasm backend, MNIST's JSON) are
      // loaded lazily with require() on purpose: it keeps the kernel's and the CLI's start fast.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // One concern per file: a file that grows past this has two (see CONTRIBUTING.md).
    files: ["src/**/*.ts", "kernel/**/*.ts"],
    rules: { "max-lines": ["error", { max: 400 }] },
  },
  {
    files: ["**/*.js", "**/*.cjs"],
    languageOptions: { sourceType: "commonjs", globals: globals.node },
  },
  {
    files: ["scripts/**/*.mjs"],
    languageOptions: { sourceType: "module", globals: globals.node },
  },
);
