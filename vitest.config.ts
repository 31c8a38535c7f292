import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // The hostile-client suite (test/grid/hostile, concurrency, restarts) runs here; its attacks on defences still
    // being built sit in "[awaits ...]" blocks (test/grid/hostile/awaiting.ts) that TSYFT_HOSTILE=1 turns on.
    exclude: [...configDefaults.exclude],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", ["json", { outputFile: "out/vitest-results.json" }]],
    // Two cores here: more workers than that only thrashes.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
