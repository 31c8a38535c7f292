import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The hostile-client suite (test/grid/hostile, concurrency, restarts) runs here too; `npm run test:hostile`
    // runs only it. A fresh clone's copy (test/notebooks/fresh-clone.test.ts) lives under out/, outside `include`.
    exclude: [...configDefaults.exclude],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", ["json", { outputFile: "out/vitest-results.json" }]],
    // Two cores here: more workers than that only thrashes.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
