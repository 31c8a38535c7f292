/**
 * Where things are, seen from the compiled kernel (dist/kernel/...).
 *
 * The kernel runs from `dist/kernel`, so the repository root is two levels up
 * from the compiled files and one level up from the sources. Both layouts are
 * handled so that tools running the TypeScript directly still work.
 */
import * as fs from "fs";
import * as path from "path";

/** Root of the tsyft repository (the folder holding package.json). */
export function repoRoot(): string {
  let dir = __dirname;
  for (let i = 0; i < 5; i++) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, "utf8")).name === "tsyft") return dir;
      } catch {
        // not a package.json we can read; keep walking up
      }
    }
    dir = path.dirname(dir);
  }
  return path.resolve(__dirname, "..", "..");
}

/** Folder of the compiled kernel (dist/kernel). */
export function kernelDistDir(): string {
  return path.join(repoRoot(), "dist", "kernel");
}

/** The compiled launcher Jupyter starts: `node <launcher> <connection_file>`. */
export function launcherPath(): string {
  return path.join(kernelDistDir(), "launcher.js");
}

/** Version of the tsyft package. */
export function tsyftVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(path.join(repoRoot(), "package.json"), "utf8")).version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

/** Version of the TypeScript compiler that compiles cells (tslab's own fork). */
export function cellCompilerVersion(): string {
  try {
    const pkg = require.resolve("@tslab/typescript-for-tslab/package.json", { paths: [require.resolve("tslab")] });
    return JSON.parse(fs.readFileSync(pkg, "utf8")).version;
  } catch {
    return "unknown";
  }
}

/** Version of tslab, whose converter and executor the kernel reuses. */
export function tslabVersion(): string {
  try {
    return JSON.parse(fs.readFileSync(require.resolve("tslab/package.json"), "utf8")).version;
  } catch {
    return "unknown";
  }
}
