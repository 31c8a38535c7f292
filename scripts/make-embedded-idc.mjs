#!/usr/bin/env node
/**
 * Makes the compact IDC breast-cancer subset that ships in the repository (data/embedded/idc-400/), so the domain
 * tutorials run on a fresh clone with no data directory.
 *
 * From the 8,988 patches under <data dir>/idc/ (index.csv, patches/{0,1}/*.png, patches/SHA256SUMS) it copies 400
 * patches byte for byte (no re-encoding, so their sha256 are the published ones): 200 non-IDC, 40 from each of the
 * 5 patients that have any, and 200 IDC from all 18 patients that have any (11 each, the 2 left over to the
 * patients with the most IDC patches), so all 19 patients are in. Within a patient and class the patches are
 * taken in the order of the sha256 of their file names (a fixed shuffle), after one edge patch of each
 * (class, patient, size) that is smaller than 50x50, so the loader's padding is exercised on the embedded copy.
 * Deterministic: the same input gives the same files.
 *
 *   node scripts/make-embedded-idc.mjs [<data dir>]     # default: $TSYFT_DATA_DIR
 *
 * Then update the sha256 of index.csv and patches/SHA256SUMS in data/checksums.json (the script prints them).
 */
import fs from "node:fs";
import path from "node:path";
import { fullCopy, repo, sha256 } from "./embedded-source.mjs";

const PER_CLASS = 200;
const { source, indexFile } = fullCopy("idc", "index.csv");
const out = path.join(repo, "data", "embedded", "idc-400");

const lines = fs
  .readFileSync(indexFile, "utf8")
  .split(/\r?\n/)
  .filter((line) => line !== "");
const header = lines[0].split(",");
const column = Object.fromEntries(header.map((name, i) => [name, i]));
for (const name of ["file", "patient_id", "label", "width", "height", "path"]) {
  if (column[name] === undefined) {
    console.error(`${indexFile}: no "${name}" column (it has ${header.join(", ")}).`);
    process.exit(1);
  }
}
const rows = lines.slice(1).map((line) => line.split(","));
const sums = new Map(
  fs
    .readFileSync(path.join(source, "patches", "SHA256SUMS"), "utf8")
    .split(/\r?\n/)
    .filter((line) => line !== "")
    .map((line) => {
      const [digest, name] = line.split(/\s+\*?/);
      return [name.replace(/^\.\//, ""), digest];
    }),
);

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

// Only the patches and the index are remade; README.md (licence and citation) stays.
fs.rmSync(path.join(out, "patches"), { recursive: true, force: true });
const listed = [];
let bytes = 0;
for (const row of chosen) {
  const relative = row[column.path];
  const listedName = relative.replace(/^patches\//, "");
  const content = fs.readFileSync(path.join(source, ...relative.split("/")));
  if (sha256(content) !== sums.get(listedName)) {
    console.error(`${relative}: its sha256 differs from patches/SHA256SUMS; the source copy is corrupt.`);
    process.exit(1);
  }
  fs.mkdirSync(path.dirname(path.join(out, relative)), { recursive: true });
  fs.writeFileSync(path.join(out, relative), content);
  listed.push(`${sums.get(listedName)}  ${listedName}`);
  bytes += content.length;
}
const index = [header, ...chosen].map((row) => row.join(",")).join("\n") + "\n";
fs.writeFileSync(path.join(out, "index.csv"), index);
const sumsText = listed.join("\n") + "\n";
fs.writeFileSync(path.join(out, "patches", "SHA256SUMS"), sumsText);

const count = (label) => chosen.filter((row) => row[column.label] === label).length;
const patientCount = new Set(chosen.map((row) => row[column.patient_id])).size;
const small = chosen.filter((row) => row[column.width] !== "50" || row[column.height] !== "50").length;
console.log(
  `${chosen.length} patches (${count("0")} non-IDC, ${count("1")} IDC) from ${patientCount} patients, ${small} smaller than 50x50`,
);
console.log(`${(bytes / 1e6).toFixed(2)} MB of PNGs in ${path.relative(repo, out)}`);
console.log(`index.csv           ${Buffer.byteLength(index)} bytes  sha256 ${sha256(index)}`);
console.log(`patches/SHA256SUMS  ${Buffer.byteLength(sumsText)} bytes  sha256 ${sha256(sumsText)}`);
