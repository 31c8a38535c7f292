#!/usr/bin/env node
/**
 * Makes the compact HAM10000 copy that ships in the repository (data/embedded/ham10000-64px/), so the
 * skin-cancer tutorials run on a fresh clone with no data directory.
 *
 * From the full bkl/mel subset (<data dir>/ham10000/images_224_index.csv and its 1,074 224x224 jpgs, one
 * image per lesion) it writes, for every lesion: the image resized to 64x64 (twice the tutorial's 32x32
 * input; lanczos3, JPEG quality 90 without chroma subsampling) and its metadata row. Deterministic: the same
 * input gives the same bytes, so data/checksums.json can pin them.
 *
 *   node scripts/make-embedded-ham10000.mjs [<data dir>]     # default: $TSYFT_DATA_DIR
 *
 * Then update the sha256 of index.csv and SHA256SUMS in data/checksums.json (the script prints them).
 */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import { fullCopy, repo, sha256 } from "./embedded-source.mjs";

const SIZE = 64;
const QUALITY = 90;
const { source, indexFile } = fullCopy("ham10000", "images_224_index.csv");
const out = path.join(repo, "data", "embedded", "ham10000-64px");

// sharp (libvips) is deterministic for a given version; one thread keeps it so across machines.
sharp.concurrency(1);
const lines = fs
  .readFileSync(indexFile, "utf8")
  .split(/\r?\n/)
  .filter((line) => line !== "");
const header = lines[0].split(",");
const pathColumn = header.indexOf("path");
const rows = lines.slice(1).map((line) => line.split(","));
if (pathColumn !== header.length - 1 || rows.some((row) => row.length !== header.length)) {
  console.error(`${indexFile}: expected "path" as the last of ${header.length} columns in every row.`);
  process.exit(1);
}

fs.rmSync(path.join(out, "images"), { recursive: true, force: true });
const sums = [];
for (const row of rows) {
  const from = row[pathColumn];
  const relative = `images/${path.basename(path.dirname(from))}/${path.basename(from)}`;
  const bytes = await sharp(path.join(source, ...from.split("/")))
    .resize(SIZE, SIZE, { kernel: "lanczos3" })
    .jpeg({ quality: QUALITY, chromaSubsampling: "4:4:4" })
    .toBuffer();
  fs.mkdirSync(path.dirname(path.join(out, relative)), { recursive: true });
  fs.writeFileSync(path.join(out, relative), bytes);
  sums.push(`${sha256(bytes)}  ${relative}`);
  row[pathColumn] = relative;
}
const index = [header, ...rows].map((row) => row.join(",")).join("\n") + "\n";
fs.writeFileSync(path.join(out, "index.csv"), index);
const sumsText = sums.join("\n") + "\n";
fs.writeFileSync(path.join(out, "SHA256SUMS"), sumsText);

const bytes = sums.length === 0 ? 0 : rows.reduce((n, row) => n + fs.statSync(path.join(out, row[pathColumn])).size, 0);
console.log(`${rows.length} images, ${(bytes / 1e6).toFixed(2)} MB of jpgs in ${path.relative(repo, out)}`);
console.log(`index.csv   ${Buffer.byteLength(index)} bytes  sha256 ${sha256(index)}`);
console.log(`SHA256SUMS  ${Buffer.byteLength(sumsText)} bytes  sha256 ${sha256(sumsText)}`);
