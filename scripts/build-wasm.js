#!/usr/bin/env node
// Compiles the ring's AssemblyScript kernels (src/ring/wasm/*.ts) into build/ring.wasm.
//
// Uses the project's own assemblyscript (devDependency) through its `asc` binary:
// -O3 for speed, SIMD enabled (v128 lanes for the elementwise ops and matmul),
// the stub runtime since the kernels never allocate (JavaScript lays out memory),
// and no `abort` import since nothing asserts at run time.
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const root = path.resolve(__dirname, "..");
const entry = path.join(root, "src", "ring", "wasm", "index.ts");
const outDir = path.join(root, "build");
const outFile = path.join(outDir, "ring.wasm");

let asc;
try {
  asc = path.join(path.dirname(require.resolve("assemblyscript/package.json", { paths: [root] })), "bin", "asc.js");
} catch {
  console.error("build-wasm: assemblyscript is not installed; run `npm install` first.");
  process.exit(1);
}

fs.mkdirSync(outDir, { recursive: true });
const args = [
  asc,
  path.relative(root, entry),
  "--outFile",
  path.relative(root, outFile),
  "-O3",
  "--noAssert",
  "--runtime",
  "stub",
  "--enable",
  "simd",
  "--use",
  "abort=",
  "--initialMemory",
  "16",
];
if (process.argv.includes("--wat")) args.push("--textFile", path.relative(root, path.join(outDir, "ring.wat")));

const started = Date.now();
const result = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
if (result.status !== 0) {
  console.error(`build-wasm: asc failed (exit ${result.status ?? result.signal}).`);
  process.exit(result.status || 1);
}
const bytes = fs.statSync(outFile).size;
console.log(`build-wasm: ${path.relative(root, outFile)} (${bytes} bytes, ${Date.now() - started} ms)`);
