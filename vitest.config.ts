import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", ["json", { outputFile: "out/vitest-results.json" }]],
    // Two cores here: more workers than that only thrashes.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
