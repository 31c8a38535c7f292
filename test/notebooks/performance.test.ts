/**
 * notebooks/05-performance.ipynb through the headless runner in quick mode: it measures
 * the three tutorial models encrypted and in plaintext, compares them with the Python
 * originals in a chart, shows bench/results when present, and charts online time against link latency.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, RUNNER, distProblem, run, text } from "../kernel/helpers";

const NOTEBOOK = path.join(REPO, "notebooks", "05-performance.ipynb");
const out = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-performance-"));
afterAll(() => fs.rmSync(out, { recursive: true, force: true }));

interface Output {
  output_type: string;
  text?: unknown;
  data?: Record<string, unknown>;
}

describe("05-performance through the headless runner (TSYFT_QUICK=1)", () => {
  it("measures the tutorial models and charts them against the Python originals", async () => {
    const problem = distProblem();
    if (problem) throw new Error(problem);
    const result = await run(process.execPath, [RUNNER, NOTEBOOK, "--out", out], { env: { ...process.env, TSYFT_QUICK: "1" }, timeoutMs: 540_000 });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const notebook = JSON.parse(fs.readFileSync(path.join(out, "05-performance.ipynb"), "utf8")) as { cells: Array<{ outputs?: Output[] }> };
    const outputs = notebook.cells.flatMap((c) => c.outputs ?? []);
    expect(outputs.filter((o) => o.output_type === "error")).toEqual([]);
    const all = outputs.map((o) => (o.output_type === "stream" ? text(o.text) : text(o.data?.["text/plain"]))).join("\n");
    for (const model of ["linear toy", "MNIST MLP 784-500-10", "skin-cancer CNN"]) expect(all).toMatch(new RegExp(`${model}\\s+1\\s+[\\d.]+\\s+[\\d.]+`));
    expect(all).toMatch(/linear toy: [\d.]+ ms against 1\.66 s, \d+x faster/);
    expect(all).toMatch(/skin-cancer CNN: [\d.]+ ms against 324 s, \d+x faster/);
    // At a network distance: bench/results/wan.json, or a sweep measured in place; online time and rounds charted.
    expect(all).toMatch(/linear toy at \d+ ms one way: [\d.]+ ms online, \d+ rounds/);
    const charts = outputs.filter((o) => o.data?.["application/vnd.vegalite.v5+json"]);
    expect(charts.length).toBeGreaterThan(1);
    expect(text(charts[0]!.data!["image/svg+xml"])).toContain("<svg");
  }, 600_000);
});
