import { configDefaults, defineConfig } from "vitest/config";

/**
 * The hostile-client suite of the grid issue (issue 10): attacks with raw sockets and plain HTTP, the 10-process
 * concurrency test and the restart tests. They were written against the design before all of its
 * defences exist (per-object authorization on nodes is still missing), so some fail today by design; they run
 * with `npm run test:hostile` and join `npm test` as the defences land.
 */
export const hostileSuite = [
  "test/grid/hostile/**",
  "test/grid/concurrency.integration.test.ts",
  "test/grid/restarts.integration.test.ts",
];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(process.env.TSYFT_HOSTILE === "1" ? [] : hostileSuite)],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    reporters: ["default", ["json", { outputFile: "out/vitest-results.json" }]],
    // Two cores here: more workers than that only thrashes.
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
