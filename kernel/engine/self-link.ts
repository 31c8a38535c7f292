/**
 * Makes `import * as sy from "tsyft"` resolve from notebooks under the repo.
 *
 * tslab compiles cells with Node10 module resolution and runs them with
 * Node's `require`, so the package must be found by name in a node_modules
 * folder above the notebook. The repository is the package (package.json main
 * and types point into dist/), so `node_modules/tsyft` is a link back to the
 * repository root. `scripts/link-self.js` creates it at build time; the engine
 * checks again at start because `npm install` prunes unknown entries.
 */
import * as fs from "fs";
import * as path from "path";

export interface SelfLink {
  path: string;
  /** created: made now; present: already there; skipped: no node_modules or not creatable. */
  state: "created" | "present" | "skipped";
  reason?: string;
}

export function ensureSelfLink(repoRoot: string): SelfLink {
  const modules = path.join(repoRoot, "node_modules");
  const link = path.join(modules, "tsyft");
  try {
    fs.lstatSync(link);
    return { path: link, state: "present" };
  } catch {
    // not there yet
  }
  if (!fs.existsSync(modules))
    return { path: link, state: "skipped", reason: "no node_modules folder (run npm install)" };
  try {
    if (process.platform === "win32") fs.symlinkSync(repoRoot, link, "junction");
    else fs.symlinkSync("..", link, "dir");
    return { path: link, state: "created" };
  } catch (error) {
    return { path: link, state: "skipped", reason: (error as Error).message };
  }
}
