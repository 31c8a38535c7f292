/**
 * What a person does and sees in Jupyter Notebook's classic web UI, as page
 * scripts run through the DevTools protocol: open a notebook, Run All from
 * the Cell menu, interrupt from the Kernel menu, read each cell's outputs.
 */
import type { Page } from "./cdp";

/** One cell as the page shows it. */
export interface CellView {
  type: string;
  source: string;
  tags: string[];
  prompt: number | string | null;
  /** The output area's visible text. */
  text: string;
  /** The output area's HTML. */
  html: string;
}

/** How the notebook looks right after it opened and its kernel is ready. */
export interface OpenState {
  dirty: boolean;
  saveStatus: string;
  trusted: boolean;
  kernel: string;
}

const NB = "Jupyter.notebook";

/** Opens `urlWithToken` and waits until the notebook is loaded and its kernel answered kernel_info. */
export async function openNotebook(page: Page, urlWithToken: string): Promise<OpenState> {
  await page.goto(urlWithToken);
  await page.waitFor(
    `window.Jupyter && ${NB} && ${NB}._fully_loaded && ${NB}.kernel && ${NB}.kernel.info_reply && ` +
      `${NB}.kernel.info_reply.language_info && true`,
    "the notebook to load and its kernel to be ready",
    60_000,
  );
  // kernel_ready handlers (the language_info comparison that marks the notebook dirty) run right after.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  return page.evaluate<OpenState>(
    `({ dirty: !!${NB}.dirty, saveStatus: document.querySelector("#autosave_status")?.textContent ?? "",
        trusted: ${NB}.trusted, kernel: ${NB}.kernel.name })`,
  );
}

/** Clicks a menu item by its element id (`run_all_cells`, `int_kernel`...). */
export async function clickMenu(page: Page, id: string): Promise<void> {
  const clicked = await page.evaluate<boolean>(
    `(() => { const a = document.querySelector("#${id} > a"); if (!a) return false; a.click(); return true; })()`,
  );
  if (!clicked) throw new Error(`no menu item #${id} in the page`);
}

/** Waits until every code cell has a number in its prompt and the kernel is idle. */
export async function waitAllRun(page: Page, timeoutMs: number): Promise<void> {
  await page.waitFor(
    `${NB}.get_cells().filter((c) => c.cell_type === "code")` +
      `.every((c) => typeof c.input_prompt_number === "number") && !${NB}.kernel_busy`,
    "every code cell to have run",
    timeoutMs,
    500,
  );
}

/** The cells with their prompts and rendered outputs. */
export function cells(page: Page): Promise<CellView[]> {
  return page.evaluate<CellView[]>(
    `${NB}.get_cells().map((c) => ({
      type: c.cell_type,
      source: c.get_text(),
      tags: (c.metadata && c.metadata.tags) || [],
      prompt: c.input_prompt_number === undefined ? null : c.input_prompt_number,
      text: c.output_area ? c.output_area.element[0].innerText : "",
      html: c.output_area ? c.output_area.element[0].innerHTML : "",
    }))`,
  );
}

/** Adds a code cell at the end with `code`, runs it, and returns its index (does not wait for it). */
export function appendAndRun(page: Page, code: string): Promise<number> {
  return page.evaluate<number>(
    `(() => {
      const nb = ${NB};
      nb.select(nb.ncells() - 1);
      const cell = nb.insert_cell_below("code");
      cell.set_text(${JSON.stringify(code)});
      const index = nb.find_cell_index(cell);
      nb.select(index);
      nb.execute_cells([index]);
      return index;
    })()`,
  );
}

/** Runs the cell at `index` again and waits until it has a new prompt number. */
export async function rerun(page: Page, index: number, timeoutMs: number): Promise<void> {
  const before = await page.evaluate<number | null>(`${NB}.get_cell(${index}).input_prompt_number ?? null`);
  await page.evaluate(`${NB}.execute_cells([${index}])`);
  await page.waitFor(
    `(() => { const p = ${NB}.get_cell(${index}).input_prompt_number; ` +
      `return typeof p === "number" && p !== ${JSON.stringify(before)} && !${NB}.kernel_busy; })()`,
    `cell ${index} to run again`,
    timeoutMs,
  );
}

/** Waits until the cell at `index` has a number in its prompt. */
export function waitCellDone(page: Page, index: number, timeoutMs: number): Promise<unknown> {
  return page.waitFor(
    `typeof ${NB}.get_cell(${index}).input_prompt_number === "number"`,
    `cell ${index} to finish`,
    timeoutMs,
  );
}

/** Number of line boxes of each element matching `selector` (1 = the text fits on one line). */
export function lineCounts(page: Page, selector: string): Promise<Array<{ text: string; lines: number }>> {
  return page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(selector)})].map((el) => {
      const range = document.createRange();
      range.selectNodeContents(el);
      const tops = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
      return { text: el.textContent, lines: tops.size };
    })`,
  );
}

/** Grows the viewport to the notebook's height and writes a PNG of it. */
export async function screenshotNotebook(page: Page, file: string): Promise<void> {
  const height = await page.evaluate<number>(
    `Math.min(16000, document.querySelector("#notebook-container").scrollHeight + 200)`,
  );
  await page.send("Emulation.setDeviceMetricsOverride", { width: 1400, height, deviceScaleFactor: 1, mobile: false });
  // CodeMirror draws only what was in view; redraw every editor at the new size.
  await page.evaluate(`Jupyter.notebook.get_cells().forEach((c) => c.code_mirror && c.code_mirror.refresh())`);
  await new Promise((resolve) => setTimeout(resolve, 500));
  await page.screenshot(file);
  await page.send("Emulation.clearDeviceMetricsOverride");
}
