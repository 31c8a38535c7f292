/**
 * Where tsyft's own files are: the directory holding its package.json, found
 * by walking up from this file, so that the same code finds build/ring.wasm,
 * bin/tsyft.js and data/ whether it runs from src/ (tests) or dist/src/.
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The directory holding tsyft's package.json above `from`; undefined if there is none. */
export function findPackageRoot(from: string = __dirname): string | undefined {
  let dir = from;
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      try {
        if ((JSON.parse(fs.readFileSync(manifest, "utf8")) as { name?: unknown }).name === "tsyft") return dir;
      } catch {
        // An unreadable manifest is not ours; keep walking.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

let cached: string | undefined;

/** tsyft's package root, or the working directory when tsyft runs from outside its package. */
export function packageRoot(): string {
  cached ??= findPackageRoot() ?? process.cwd();
  return cached;
}
