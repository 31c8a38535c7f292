/**
 * Where the data tests find the real datasets.
 *
 * `TSYFT_DATA_DIR` when set (CI: ../shared/data, relative to the repository), else
 * `<repo>/../shared/data`. The fallback is for tests only; the library's own default is `data/`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dataDir } from "../../src/data/paths";

export const repoRoot = path.resolve(__dirname, "..", "..");

const fromEnv = process.env.TSYFT_DATA_DIR;
/** The data directory the tests read. */
export const testDataDir = fromEnv && fromEnv.trim() !== "" ? dataDir() : path.resolve(repoRoot, "..", "shared", "data");
if (!fromEnv) process.env.TSYFT_DATA_DIR = testDataDir;

/** Whether the HAM10000 bkl/mel subset is present. */
export const hasHam10000 = ["ham10000/HAM10000_metadata.csv", "ham10000/images_224_index.csv", "ham10000/images_224/SHA256SUMS"].every(
  (f) => fs.existsSync(path.join(testDataDir, f)),
);
/** Whether the MNIST t10k IDX files are present. */
export const hasMnistIdx = ["t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"].every((f) =>
  [f, `${f}.gz`].some((g) => fs.existsSync(path.join(testDataDir, "mnist", g))),
);

if (!hasHam10000) console.warn(`[tsyft data tests] skipping HAM10000 tests: no HAM10000 data under ${testDataDir} (set TSYFT_DATA_DIR).`);
if (!hasMnistIdx) console.warn(`[tsyft data tests] skipping MNIST IDX tests: no t10k IDX files under ${path.join(testDataDir, "mnist")} (set TSYFT_DATA_DIR).`);

/** A fresh temporary directory, removed by the returned cleanup. */
export function tempDir(prefix = "tsyft-data-"): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Copies `relative` (a path under the test data directory) into `root`, keeping its folders; returns the copy's path. */
export function copyDataFile(relative: string, root: string): string {
  const to = path.join(root, relative);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(path.join(testDataDir, relative), to);
  fs.chmodSync(to, 0o644);
  return to;
}
