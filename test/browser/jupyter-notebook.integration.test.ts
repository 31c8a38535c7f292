/**
 * Notebooks 00 and 01 as a workshop participant sees them: Debian's Jupyter
 * Notebook (classic UI) with the tsyft kernel, driven in Debian's headless
 * Chromium through the DevTools protocol (issue 14). Each notebook is opened,
 * Run All is clicked, and the page is read: HTML tables and tensors (no raw
 * `Tensor {` dumps), the chart as SVG (and as an image in an untrusted copy),
 * one progress bar, a readable error with the cell's frame, no TF.js banner,
 * captions on one line, no "(unsaved changes)" on open, an interrupted
 * awaiting cell printing nothing into later cells, and a re-run grid cell
 * that leaves no stray processes (nor does the kernel when shut down).
 * Screenshots go to out/browser/.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO, distProblem, pythonProblem } from "../kernel/helpers";
import { Browser, chromiumPath, type Page } from "./cdp";
import { startNotebookServer, type NotebookServer } from "./jupyter-server";
import {
  appendAndRun,
  cells,
  clickMenu,
  lineCounts,
  openNotebook,
  rerun,
  screenshotNotebook,
  waitAllRun,
  waitCellDone,
} from "./notebook-ui";

const OUT = path.join(REPO, "out", "browser");
const chromium = chromiumPath();
const skipReason = !chromium
  ? "Debian's chromium is not installed (apt-get install -y chromium; .ci/run does)"
  : pythonProblem(["notebook"]);
if (skipReason) console.warn(`browser test skipped: ${skipReason}`);

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const end = Date.now() + ms;
  while (pids.some(alive) && Date.now() < end) await new Promise((resolve) => setTimeout(resolve, 200));
  return pids.filter(alive);
}

/** The pid column of the grid table a cell shows. */
function gridPids(html: string): number[] {
  const table = /<table class="tsyft-table"[\s\S]*?<\/table>/.exec(html)?.[0] ?? "";
  const headers = [...table.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((m) => m[1]);
  const rows = [...table.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].slice(1);
  const column = headers.indexOf("pid");
  return rows.map((row) => Number([...row[1].matchAll(/<t[dh][^>]*>([^<]*)<\/t[dh]>/g)][column]?.[1]));
}

if (!skipReason)
  describe("notebooks 00 and 01 in Jupyter Notebook's web UI, in headless Chromium", () => {
    let browser: Browser;
    let server: NotebookServer;
    let page: Page;
    let workDir: string;
    const startedAt = Date.now();

    beforeAll(async () => {
      const problem = distProblem();
      if (problem) throw new Error(problem);
      // Inside the repository, so cells resolve `tsyft` and TF.js from its node_modules.
      fs.mkdirSync(OUT, { recursive: true });
      workDir = fs.mkdtempSync(path.join(OUT, "..", "browser-notebooks-"));
      for (const name of ["00-kernel-tour.ipynb", "01-linear-toy-grid.ipynb"])
        fs.copyFileSync(path.join(REPO, "notebooks", name), path.join(workDir, name));
      server = await startNotebookServer(workDir, { TSYFT_QUICK: "1" });
      browser = await Browser.launch(chromium!);
      page = await browser.newPage();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      if (workDir) fs.rmSync(workDir, { recursive: true, force: true });
      console.log(`browser test: ${((Date.now() - startedAt) / 1000).toFixed(0)} s`);
    }, 60_000);

    it("00-kernel-tour: opens clean, runs all, shows tables, chart, one bar, a readable error", async () => {
      const opened = await openNotebook(page, server.link("/notebooks/00-kernel-tour.ipynb"));
      expect(opened.kernel).toBe("tsyft");
      expect(opened.dirty, "marked changed on open (language_info differs from the kernel's)").toBe(false);
      expect(opened.saveStatus).not.toContain("unsaved changes");

      await clickMenu(page, "run_all_cells");
      await waitAllRun(page, 300_000);
      const view = await cells(page);
      const code = view.filter((c) => c.type === "code");
      const all = code.map((c) => c.text).join("\n");

      expect(all, "a raw tensor dump").not.toContain("Tensor {");
      expect(all, "TF.js's install-tfjs-node banner").not.toMatch(/node backend|tfjs-node/);
      const html = code.map((c) => c.html).join("\n");
      expect(html).toContain('class="tsyft-table"');
      expect((html.match(/class="tsyft-tensor"/g) ?? []).length).toBeGreaterThanOrEqual(2);
      const chart = code.find((c) => c.source.includes("sy.vegaLite("))!;
      expect(chart.html, "the chart as SVG").toMatch(/<svg[\s\S]*fractional bits[\s\S]*<\/svg>/);
      expect((html.match(/class="tsyft-progress"/g) ?? []).length, "one progress bar").toBe(1);
      expect(all).toMatch(/matmul chain[\s\S]*\(100%\)/);

      const failing = code.filter((c) => /Error/.test(c.text) && c.html.includes("output_error"));
      expect(failing.map((c) => c.tags)).toEqual([["raises-exception"]]);
      expect(failing[0].text).toContain("TSYFT_ERR_INVALID_ARGUMENT");
      expect(failing[0].text, "the cell's own frame").toMatch(/cell-\d+:1:\d+/);
      expect(failing[0].text, "a caret under the call").toMatch(/\n\s*\|\s*\^+/);
      expect(failing[0].text, "compiled library frames").not.toContain("dist/src/");
      expect(code[code.length - 1].text).toContain("[ 2, 3 ]");

      for (const caption of await lineCounts(page, ".tsyft-caption"))
        expect(caption.lines, `caption on one line: ${caption.text}`).toBe(1);
      await screenshotNotebook(page, path.join(OUT, "00-kernel-tour.png"));
    }, 360_000);

    it("00-kernel-tour: an interrupted awaiting cell prints nothing into the next cell; no TF.js banner", async () => {
      const loop = await appendAndRun(
        page,
        'for (let k = 0; k < 16; k++) {\n  await new Promise((r) => setTimeout(r, 500));\n  console.log("step", k);\n}',
      );
      await page.waitFor(
        `Jupyter.notebook.get_cell(${loop}).output_area.element[0].innerText.includes("step 2")`,
        "step 2",
        30_000,
        100,
      );
      await clickMenu(page, "int_kernel");
      await waitCellDone(page, loop, 30_000);
      const later = await appendAndRun(page, 'await new Promise((r) => setTimeout(r, 4000));\n"later cell done"');
      await waitCellDone(page, later, 60_000);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const view = await cells(page);
      expect(view[loop].text).toContain("Interrupted");
      expect(view[loop].text).not.toContain("step 15");
      expect(view[later].text).toContain("later cell done");
      expect(view[later].text, "the interrupted loop printed into a later cell").not.toContain("step");

      // TF.js's CPU backend, used for the first time in this kernel: no "install tfjs-node" banner.
      const cpu = await appendAndRun(
        page,
        'await tf.setBackend("cpu");\nconst onCpu = tf.tensor([1, 2]).square().dataSync();\n' +
          'await tf.setBackend("wasm");\n`squares on the CPU backend: ${onCpu}`',
      );
      await waitCellDone(page, cpu, 60_000);
      const shown = (await cells(page))[cpu].text;
      expect(shown).toContain("squares on the CPU backend: 1,4");
      expect(shown, "TF.js's install-tfjs-node banner").not.toMatch(/node backend|tfjs-node/);
    }, 120_000);

    it("00-kernel-tour, untrusted copy: the chart is still there as an image", async () => {
      await page.evaluate("Jupyter.notebook.save_notebook()");
      const saved = JSON.parse(fs.readFileSync(path.join(workDir, "00-kernel-tour.ipynb"), "utf8"));
      // Any change to a signed notebook makes it untrusted, as a notebook from someone else is.
      saved.metadata.tsyft_copy = "received from someone else";
      fs.writeFileSync(path.join(workDir, "00-untrusted.ipynb"), JSON.stringify(saved, null, 1));
      const opened = await openNotebook(page, server.link("/notebooks/00-untrusted.ipynb"));
      expect(opened.trusted).toBe(false);
      const chart = (await cells(page)).find((c) => c.type === "code" && c.source.includes("sy.vegaLite("))!;
      expect(chart.html, "the PNG rendering").toMatch(/<img src="data:image\/png;base64,/);
      expect(chart.html).not.toContain("<svg");
      const all = (await cells(page)).map((c) => c.text).join("\n");
      expect(all, "the progress bar's numbers").toMatch(/matmul chain[\s\S]*\(100%\)/);
      await screenshotNotebook(page, path.join(OUT, "00-kernel-tour-untrusted.png"));
      await page.goto("about:blank");
    }, 120_000);

    it("01-linear-toy-grid: [1022] as a tensor table; a re-run grid cell and the kernel leave no processes", async () => {
      const opened = await openNotebook(page, server.link("/notebooks/01-linear-toy-grid.ipynb"));
      expect(opened.dirty).toBe(false);
      await clickMenu(page, "run_all_cells");
      await waitAllRun(page, 420_000);
      let view = await cells(page);
      const code = view.filter((c) => c.type === "code");
      const all = code.map((c) => c.text).join("\n");
      expect(all).not.toContain("Tensor {");
      expect(all).not.toMatch(/node backend|tfjs-node/);
      expect(code.filter((c) => c.html.includes("output_error")).map((c) => c.text)).toEqual([]);
      const answer = code.find((c) => /\ny;?\s*$/.test(c.source))!;
      expect(answer.html).toMatch(/class="tsyft-tensor"[\s\S]*>1022<\/td>/);
      for (const caption of await lineCounts(page, ".tsyft-caption"))
        expect(caption.lines, `caption on one line: ${caption.text}`).toBe(1);
      expect(code[code.length - 1].text).toMatch(/grid stopped: all 5 processes have exited/);
      await screenshotNotebook(page, path.join(OUT, "01-linear-toy-grid.png"));

      // The grid cell twice more: the second run stops the grid the first one started.
      const gridCell = view.findIndex((c) => c.source.includes("startLocalGrid("));
      await rerun(page, gridCell, 120_000);
      const first = gridPids((await cells(page))[gridCell].html);
      expect(first.length).toBe(5);
      expect(first.every(alive)).toBe(true);
      await rerun(page, gridCell, 120_000);
      view = await cells(page);
      const second = gridPids(view[gridCell].html);
      expect(second.length).toBe(5);
      expect(second.some((pid) => first.includes(pid))).toBe(false);
      expect(await waitGone(first, 15_000), "processes of the grid started by the earlier run").toEqual([]);
      expect(second.every(alive)).toBe(true);

      // Shutting the kernel down ends every process the notebook started.
      const kernelId = await page.evaluate<string>("Jupyter.notebook.kernel.id");
      await page.goto("about:blank");
      await server.api("DELETE", `/api/kernels/${kernelId}`);
      expect(await waitGone(second, 20_000), "processes left after the kernel shut down").toEqual([]);
    }, 600_000);
  });

if (skipReason) {
  describe("browser test (skipped)", () => {
    it.skip(`needs Chromium and Jupyter Notebook: ${skipReason}`, () => undefined);
  });
}
