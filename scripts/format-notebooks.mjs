#!/usr/bin/env node
/**
 * Formats the TypeScript in the tutorials' code cells with Prettier at 100
 * columns (narrower than the repository's 120: a notebook cell in a browser
 * beside the page's margins is what people read in workshops), keeping each
 * cell's outputs and metadata. `--check` changes nothing and exits 1 naming
 * the cells that are not formatted (`npm run lint` runs it).
 *
 *   node scripts/format-notebooks.mjs [--check] [notebooks/*.ipynb ...]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as prettier from "prettier";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const check = args.includes("--check");
const named = args.filter((a) => a !== "--check");
const files = named.length
  ? named
  : fs
      .readdirSync(path.join(repo, "notebooks"))
      .filter((f) => f.endsWith(".ipynb"))
      .map((f) => path.join(repo, "notebooks", f));

/** Jupyter keeps a cell's source as lines, each but the last ending in "\n". */
const asLines = (text) => text.split(/(?<=\n)/);

let unformatted = 0;
for (const file of files) {
  const notebook = JSON.parse(fs.readFileSync(file, "utf8"));
  let changed = false;
  for (const [index, cell] of notebook.cells.entries()) {
    if (cell.cell_type !== "code") continue;
    const source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
    let formatted;
    try {
      formatted = (await prettier.format(source, { parser: "typescript", printWidth: 100 })).replace(/\n$/, "");
    } catch (error) {
      console.error(
        `${path.relative(repo, file)} cell [${index}]: not TypeScript Prettier can parse: ${error.message}`,
      );
      process.exitCode = 1;
      continue;
    }
    if (formatted === source) continue;
    if (check) {
      console.error(
        `${path.relative(repo, file)} cell [${index}] is not formatted (node scripts/format-notebooks.mjs)`,
      );
      unformatted++;
    } else {
      cell.source = asLines(formatted);
      changed = true;
    }
  }
  if (changed) fs.writeFileSync(file, JSON.stringify(notebook, null, 1) + "\n");
}
if (check && unformatted > 0) process.exitCode = 1;
