/**
 * Where tsyft looks for dataset files.
 *
 * One directory holds every dataset, one folder each (`ham10000/`, `mnist/`). It comes from the
 * `TSYFT_DATA_DIR` environment variable, else `data/` in the tsyft package (the repository root).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { packageRoot as corePackageRoot } from "../core/package-root";

/**
 * The environment variable that names the data directory.
 *
 * @example
 * ```ts
 * process.env[DATA_DIR_ENV] = "/mnt/datasets";   // TSYFT_DATA_DIR
 * ```
 */
export const DATA_DIR_ENV = "TSYFT_DATA_DIR";


/**
 * The root of the tsyft package: the nearest folder above this module whose package.json is
 * named "tsyft" (the repository root in a checkout, `node_modules/tsyft` when installed).
 *
 * @example
 * ```ts
 * packageRoot();   // "/home/me/tsyft"
 * ```
 */
export const packageRoot = corePackageRoot;

/**
 * The data directory, as an absolute path.
 *
 * 1. `dir` when given; 2. else `$TSYFT_DATA_DIR`; 3. else `data/` in the package root.
 * A relative path is resolved against the current directory when it exists there, else against
 * the package root, so `TSYFT_DATA_DIR=../shared/data` means the same folder for a test run
 * from the repository root and for a notebook kernel running in `notebooks/`.
 *
 * @example
 * ```ts
 * process.env.TSYFT_DATA_DIR = "../shared/data";
 * dataDir();                  // "/data/tsyft"
 * dataDir("/mnt/datasets");   // "/mnt/datasets"
 * ```
 */
export function dataDir(dir?: string): string {
  const chosen = dir ?? nonEmpty(process.env[DATA_DIR_ENV]);
  if (chosen === undefined) return path.join(packageRoot(), "data");
  if (path.isAbsolute(chosen)) return path.normalize(chosen);
  const fromCwd = path.resolve(process.cwd(), chosen);
  if (fs.existsSync(fromCwd)) return fromCwd;
  return path.resolve(packageRoot(), chosen);
}

/**
 * Says where the data directory came from, for error messages.
 *
 * @example
 * ```ts
 * describeDataDir();   // 'TSYFT_DATA_DIR="../shared/data" -> /data/tsyft'
 * ```
 */
export function describeDataDir(dir?: string): string {
  const resolved = dataDir(dir);
  if (dir !== undefined) return `${resolved} (passed as an argument)`;
  const env = nonEmpty(process.env[DATA_DIR_ENV]);
  if (env !== undefined) return `${resolved} (from ${DATA_DIR_ENV}="${env}")`;
  return `${resolved} (the default; ${DATA_DIR_ENV} is not set)`;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
