/**
 * The headless runner (`node dist/kernel/runner/cli.js`): the tour notebook
 * with the same checks as under Jupyter, plus failure handling, fresh
 * contexts per notebook, --only and --timeout on small notebooks.
 */
import type { ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, RUNNER, TOUR, distProblem, killTree, run, text } from "./helpers";
import { checkExecutedTour } from "./tour-checks";

const children = new Set<ChildProcess>();
const temps: string[] = [];

function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(dir);
  return dir;
}

function notebook(
  cells: Array<string | { source: string; tags: string[] }>,
  metadata: Record<string, unknown> = {},
): string {
  return JSON.stringify({
    cells: cells.map((cell) => ({
      cell_type: "code",
      metadata: typeof cell === "string" ? {} : { tags: cell.tags },
      source: typeof cell === "string" ? cell : cell.source,
      outputs: [],
      execution_count: null,
    })),
    metadata: { kernelspec: { name: "tsyft", display_name: "Syft (TypeScript)", language: "typescript" }, ...metadata },
    nbformat: 4,
    nbformat_minor: 5,
  });
}

function runner(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, [RUNNER, ...args], {
    env: { ...process.env, ...env },
    timeoutMs: 300_000,
    track: children,
  });
}

beforeAll(() => {
  const problem = distProblem();
  if (problem) throw new Error(problem);
});

afterAll(() => {
  for (const child of children) killTree(child);
  for (const dir of temps) fs.rmSync(dir, { recursive: true, force: true });
});

describe("notebook runner", () => {
  it("executes the tour notebook with rich outputs and a summary table", async () => {
    const out = tempDir("tsyft-runner-out-");
    const result = await runner([path.dirname(TOUR), "--only", "00-kernel-tour", "--out", out], { TSYFT_QUICK: "1" });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/notebook\s+cells\s+errors\s+seconds\s+status/);
    expect(result.stdout).toMatch(/00-kernel-tour\.ipynb\s+\d+\s+1\s+[\d.]+\s+ok/);
    const executed = JSON.parse(fs.readFileSync(path.join(out, "00-kernel-tour.ipynb"), "utf8"));
    checkExecutedTour(executed);
  }, 300_000);

  it("stops a notebook at an unexpected error, exits 1, and gives each notebook a fresh context", async () => {
    const dir = tempDir("tsyft-runner-nb-");
    fs.writeFileSync(
      path.join(dir, "a-fails.ipynb"),
      notebook([
        "const shared = 41;\n(globalThis as any).leaked = 'from a';\nconsole.log('quick', process.env.TSYFT_QUICK)",
        { source: "throw new Error('expected one')", tags: ["raises-exception"] },
        "shared + 1",
        "JSON.parse('{oops')",
        "'never runs'",
      ]),
    );
    fs.writeFileSync(path.join(dir, "b-fresh.ipynb"), notebook(["typeof (globalThis as any).leaked", "shared"]));
    fs.writeFileSync(path.join(dir, "c-ok.ipynb"), notebook(["const v: number = 2;\nv * 21"]));
    const out = tempDir("tsyft-runner-out-");
    const result = await runner([dir, "--out", out], { TSYFT_QUICK: "1" });
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/a-fails\.ipynb\s+4\s+2\s+[\d.]+\s+FAILED at \[4\] SyntaxError/);
    expect(result.stdout).toMatch(/c-ok\.ipynb\s+1\s+0\s+[\d.]+\s+ok/);

    const a = JSON.parse(fs.readFileSync(path.join(out, "a-fails.ipynb"), "utf8"));
    const cells = a.cells;
    expect(cells.map((c: { execution_count: number | null }) => c.execution_count)).toEqual([1, 2, 3, 4, null]);
    expect(text(cells[0].outputs[0].text)).toBe("quick 1\n");
    expect(cells[1].outputs[0]).toMatchObject({ output_type: "error", ename: "Error", evalue: "expected one" });
    expect(cells[2].outputs[0]).toMatchObject({
      output_type: "execute_result",
      execution_count: 3,
      data: { "text/plain": ["42"] },
    });
    expect(cells[3].outputs[0]).toMatchObject({ output_type: "error", ename: "SyntaxError" });
    expect(cells[4].outputs).toEqual([]);

    // b-fresh.ipynb ran in a new context: neither a-fails' globals nor its variables are there
    const b = JSON.parse(fs.readFileSync(path.join(out, "b-fresh.ipynb"), "utf8"));
    expect(text(b.cells[0].outputs[0].data["text/plain"])).toBe("'undefined'");
    expect(b.cells[1].outputs[0]).toMatchObject({ output_type: "error", ename: "CompileError" });
    expect(b.cells[1].outputs[0].evalue).toContain("Cannot find name 'shared'");
  }, 300_000);

  it("keeps the context when a cell's error goes unhandled after TF.js's wasm backend added its rethrowing listeners", async () => {
    // Inside the repo, so that the cells resolve @tensorflow/tfjs and tsyft as the tutorials do.
    fs.mkdirSync(path.join(REPO, "out"), { recursive: true });
    const dir = fs.mkdtempSync(path.join(REPO, "out", "runner-wasm-"));
    temps.push(dir);
    fs.writeFileSync(
      path.join(dir, "wasm-errors.ipynb"),
      notebook([
        'import * as tf from "@tensorflow/tfjs";\nimport * as sy from "tsyft";\nconst kept = 42;\nawait sy.useWasmBackend(tf)',
        'setTimeout(() => { throw new Error("late throw"); }, 0);\nPromise.reject(new Error("nobody catches"));\n"scheduled"',
        "await new Promise((r) => setTimeout(r, 300));\n[kept, tf.getBackend()]",
        'const before = process.listenerCount("unhandledRejection");\nconst mine = () => undefined;\n' +
          'process.on("unhandledRejection", mine);\nconst during = process.listenerCount("unhandledRejection") - before;\n' +
          'process.off("unhandledRejection", mine);\n[during, process.listenerCount("unhandledRejection") - before]',
      ]),
    );
    const out = tempDir("tsyft-runner-out-");
    const result = await runner([dir, "--out", out]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const cells = JSON.parse(fs.readFileSync(path.join(out, "wasm-errors.ipynb"), "utf8")).cells;
    expect(text(cells[0].outputs[0].data["text/plain"])).toBe("'wasm'");
    const reported = cells[1].outputs
      .filter((o: { output_type: string }) => o.output_type === "stream")
      .map((o: { text: string | string[] }) => text(o.text))
      .join("");
    // Each reported once, by the kernel, and not rethrown by the backend's listeners.
    expect(reported.match(/Unhandled promise rejection:\nError: nobody catches/g)).toHaveLength(1);
    expect(reported.match(/Uncaught exception in a callback:\nError: late throw/g)).toHaveLength(1);
    expect(reported).not.toContain("A listener for");
    expect(text(cells[2].outputs[0].data["text/plain"])).toBe("[ 42, 'wasm' ]");
    expect(text(cells[3].outputs[0].data["text/plain"])).toBe("[ 1, 0 ]");
  }, 300_000);

  it("interrupts a cell that runs past --timeout", async () => {
    const dir = tempDir("tsyft-runner-timeout-");
    fs.writeFileSync(path.join(dir, "spin.ipynb"), notebook(["let n = 0;\nwhile (true) { n++; }", "'not reached'"]));
    const out = tempDir("tsyft-runner-out-");
    const started = Date.now();
    const result = await runner([dir, "--out", out, "--timeout", "2"]);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(result.code).toBe(1);
    const spun = JSON.parse(fs.readFileSync(path.join(out, "spin.ipynb"), "utf8"));
    expect(spun.cells[0].outputs[0]).toMatchObject({ output_type: "error", ename: "CellTimeoutError" });
    expect(spun.cells[1].execution_count).toBeNull();
  }, 120_000);

  it("runs notebooks paired with metadata.tsyft.runWith side by side, and stops one when its partner fails", async () => {
    const dir = tempDir("tsyft-runner-pairs-");
    // serve waits for a file only client writes: it finishes only if the two run at the same time.
    fs.writeFileSync(
      path.join(dir, "serve.ipynb"),
      notebook(
        [
          'import * as fs from "fs";\nwhile (!fs.existsSync("handshake.txt")) await new Promise((r) => setTimeout(r, 50));\n"got " + fs.readFileSync("handshake.txt", "utf8")',
        ],
        { tsyft: { runWith: "client" } },
      ),
    );
    fs.writeFileSync(
      path.join(dir, "client.ipynb"),
      notebook(['import * as fs from "fs";\nfs.writeFileSync("handshake.txt", "hello")']),
    );
    fs.writeFileSync(
      path.join(dir, "wait.ipynb"),
      notebook(["await new Promise((r) => setTimeout(r, 600_000))", "'not reached'"], {
        tsyft: { runWith: "boom.ipynb" },
      }),
    );
    fs.writeFileSync(path.join(dir, "boom.ipynb"), notebook(["throw new Error('boom')"]));
    const out = tempDir("tsyft-runner-out-");
    const started = Date.now();
    // --only names the partners that declare nothing: the notebooks that declare them come along.
    const result = await runner([dir, "--only", "client,boom", "--out", out]);
    expect(Date.now() - started).toBeLessThan(120_000);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain("▶ client.ipynb + serve.ipynb (side by side)");
    expect(result.stdout).toContain("▶ boom.ipynb + wait.ipynb (side by side)");
    expect(result.stdout).toMatch(/serve\.ipynb\s+1\s+0\s+[\d.]+\s+ok/);
    expect(result.stdout).toMatch(/client\.ipynb\s+1\s+0\s+[\d.]+\s+ok/);
    expect(result.stdout).toMatch(/boom\.ipynb\s+1\s+1\s+[\d.]+\s+FAILED at \[1\] Error: boom/);
    const serve = JSON.parse(fs.readFileSync(path.join(out, "serve.ipynb"), "utf8"));
    expect(text(serve.cells[0].outputs[0].data["text/plain"])).toBe("'got hello'");
    const wait = JSON.parse(fs.readFileSync(path.join(out, "wait.ipynb"), "utf8"));
    expect(wait.cells[0].outputs[0].output_type).toBe("error");
    // Interrupted while its cell ran ("Execution interrupted (stopped: ...)"), or not run at all when boom failed
    // before that cell started ("Not run: ...", a cold engine still compiling it): either way the partner's failure
    // is named and nothing after it runs.
    expect(wait.cells[0].outputs[0].evalue).toMatch(/(stopped|Not run): boom\.ipynb failed at cell \[1\]/);
    expect(wait.cells[1].execution_count).toBeNull();
  }, 180_000);

  it("rejects unknown options and empty selections", async () => {
    const bad = await runner(["--frobnicate"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("unknown option --frobnicate");
    const none = await runner([path.join(REPO, "notebooks"), "--only", "no-such-notebook"]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("no notebooks to run");
  }, 60_000);
});
