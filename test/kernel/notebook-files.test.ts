/**
 * The tutorials as files: they open in Jupyter without "(unsaved changes)"
 * (their saved language_info is exactly what the kernel reports, which
 * classic Jupyter compares on open) and the kernel-tour and grid notebooks
 * keep code within 100 columns (no horizontal scrolling in the web UI).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { kernelInfo } from "../../kernel/protocol/kernel-info";
import { REPO, text } from "./helpers";

const DIR = path.join(REPO, "notebooks");
const NOTEBOOKS = fs.readdirSync(DIR).filter((f) => f.endsWith(".ipynb"));
const read = (name: string) => JSON.parse(fs.readFileSync(path.join(DIR, name), "utf8"));

describe("notebook files", () => {
  it.each(NOTEBOOKS)("%s saves the kernel's language_info", (name) => {
    expect(
      read(name).metadata.language_info,
      "copy kernelInfo().language_info (kernel/protocol/kernel-info.ts) into the notebook's metadata",
    ).toEqual(kernelInfo().language_info);
  });

  it.each(["00-kernel-tour.ipynb", "01-linear-toy-grid.ipynb"])("%s keeps code within 100 columns", (name) => {
    const long = read(name)
      .cells.filter((c: { cell_type: string }) => c.cell_type === "code")
      .flatMap((c: { source: unknown }) => text(c.source).split("\n"))
      .filter((line: string) => line.length > 100);
    expect(long).toEqual([]);
  });
});
