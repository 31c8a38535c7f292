#!/usr/bin/env node
/**
 * Makes the compact IDC breast-cancer subset that ships in the repository (data/embedded/idc-400-32px/), so the
 * domain tutorials run on a fresh clone with no data directory.
 *
 * Which patches: 400 of the 8,988 under <data dir>/idc/ (index.csv, patches/{0,1}/*.png, patches/SHA256SUMS):
 * 200 non-IDC, 40 from each of the 5 patients that have any, and 200 IDC from all 18 patients that have any (11
 * each, the 2 left over to the patients with the most IDC patches), so all 19 patients are in. Within a patient and
 * class the patches are taken in the order of the sha256 of their file names (a fixed shuffle), after one edge
 * patch of each (class, patient, size) that is smaller than 50x50, so the loader's padding shows on the embedded
 * copy too.
 *
 * What is written: not the patches' own files but one derived image. The loader itself (the built package's
 * `sy.data.loadIdc({ size: 32 })`, which checks every patch's sha256) pads each patch to 50x50 with white and resizes
 * it to 32x32 with its `resize` transform; the floats are quantized to 8 bits (round(v * 255)) and laid out as tiles
 * of a 640x640 RGB PNG, 20 per row, in index order (tile i at column i % 20, row floor(i / 20)). Beside it,
 * index.csv: the patches' rows (file, patient_id, x, y, label, width, height: the size before padding) and `tile`.
 * Deterministic: the same input gives the same bytes (sharp on one thread, no metadata in the PNG).
 *
 *   npm run build && node scripts/make-embedded-idc.mjs [<data dir>]     # default: $TSYFT_DATA_DIR
 *
 * Then update the sha256 and bytes of index.csv and patches.png in data/checksums.json (the script prints them).
 */
import fs from "node:fs";
import path from "node:path";
import sharp from "sharp";
import * as sy from "tsyft";
import { fullCopy, repo, sha256 } from "./embedded-source.mjs";

const PER_CLASS = 200;
const SIDE = 32;
const PER_ROW = 20;
const { source, indexFile } = fullCopy("idc", "index.csv");
const out = path.join(repo, "data", "embedded", "idc-400-32px");

sharp.concurrency(1);
const lines = fs
  .readFileSync(indexFile, "utf8")
  .split(/\r?\n/)
  .filter((line) => line !== "");
const header = lines[0].split(",");
const column = Object.fromEntries(header.map((name, i) => [name, i]));
const KEPT = ["file", "patient_id", "x", "y", "label", "width", "height"];
for (const name of [...KEPT, "path"]) {
  if (column[name] === undefined) {
    console.error(`${indexFile}: no "${name}" column (it has ${header.join(", ")}).`);
    process.exit(1);
  }
}
const rows = lines.slice(1).map((line) => line.split(","));

// Rows by class, then by patient.
const byClass = new Map();
for (const row of rows) {
  const label = row[column.label];
  const patient = row[column.patient_id];
  if (!byClass.has(label)) byClass.set(label, new Map());
  const patients = byClass.get(label);
  if (!patients.has(patient)) patients.set(patient, []);
  patients.get(patient).push(row);
}

const chosen = [];
for (const label of [...byClass.keys()].sort()) {
  const patients = byClass.get(label);
  const ids = [...patients.keys()].sort();
  const quota = new Map(ids.map((id) => [id, Math.floor(PER_CLASS / ids.length)]));
  const largest = [...ids].sort((a, b) => patients.get(b).length - patients.get(a).length || a.localeCompare(b));
  for (let k = 0; k < PER_CLASS % ids.length; k++) quota.set(largest[k], quota.get(largest[k]) + 1);
  for (const id of ids) {
    const ordered = [...patients.get(id)].sort((a, b) => sha256(a[column.file]).localeCompare(sha256(b[column.file])));
    const edgeSizes = new Set();
    const edges = ordered.filter((row) => {
      const size = `${row[column.width]}x${row[column.height]}`;
      if (size === "50x50" || edgeSizes.has(size)) return false;
      edgeSizes.add(size);
      return true;
    });
    const rest = ordered.filter((row) => !edges.includes(row));
    chosen.push(...[...edges, ...rest].slice(0, quota.get(id)));
  }
}
chosen.sort((a, b) => a[column.path].localeCompare(b[column.path]));

// The loader's own pixels: padded, resized to 32x32, every patch checked against patches/SHA256SUMS.
const wanted = new Set(chosen.map((row) => row[column.file]));
const idc = await sy.data.loadIdc({ dir: path.dirname(source), size: SIDE, filter: (row) => wanted.has(row.file) });
const loadedFiles = idc.table.array("file");
if (loadedFiles.length !== chosen.length) {
  console.error(`loadIdc gave ${loadedFiles.length} patches for the ${chosen.length} chosen.`);
  process.exit(1);
}
const at = new Map(Array.from(loadedFiles, (file, i) => [file, i]));
const values = idc.images.dataSync();
idc.images.dispose();
idc.labels.dispose();

const tileValues = SIDE * SIDE * 3;
const rowsOfTiles = Math.ceil(chosen.length / PER_ROW);
const [width, height] = [PER_ROW * SIDE, rowsOfTiles * SIDE];
const sprite = Buffer.alloc(width * height * 3, 255);
chosen.forEach((row, tile) => {
  const from = at.get(row[column.file]) * tileValues;
  const [left, top] = [(tile % PER_ROW) * SIDE, Math.floor(tile / PER_ROW) * SIDE];
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE * 3; x++) {
      const v = values[from + y * SIDE * 3 + x];
      sprite[((top + y) * width + left) * 3 + x] = Math.min(255, Math.max(0, Math.round(v * 255)));
    }
  }
});
const png = await sharp(sprite, { raw: { width, height, channels: 3 } })
  .png({ compressionLevel: 9, adaptiveFiltering: true, palette: false })
  .toBuffer();
// The PNG must decode to exactly these bytes (lossless, 8-bit RGB).
const decoded = await sharp(png).raw().toBuffer({ resolveWithObject: true });
if (decoded.info.channels !== 3 || decoded.info.width !== width || !decoded.data.equals(sprite)) {
  console.error("The PNG written does not decode to the tiles (expected lossless 8-bit RGB).");
  process.exit(1);
}

fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, "patches.png"), png);
const index = [
  [...KEPT, "tile"],
  ...chosen.map((row, tile) => [...KEPT.map((name) => row[column[name]]), String(tile)]),
]
  .map((row) => row.join(","))
  .join("\n")
  .concat("\n");
fs.writeFileSync(path.join(out, "index.csv"), index);

const count = (label) => chosen.filter((row) => row[column.label] === label).length;
const patientCount = new Set(chosen.map((row) => row[column.patient_id])).size;
const small = chosen.filter((row) => row[column.width] !== "50" || row[column.height] !== "50").length;
console.log(
  `${chosen.length} patches (${count("0")} non-IDC, ${count("1")} IDC) from ${patientCount} patients, ${small} smaller than 50x50`,
);
console.log(`${width}x${height} sprite of ${SIDE}x${SIDE} tiles in ${path.relative(repo, out)}`);
console.log(`index.csv    ${Buffer.byteLength(index)} bytes  sha256 ${sha256(index)}`);
console.log(`patches.png  ${png.length} bytes  sha256 ${sha256(png)}`);
