#!/usr/bin/env node
// Prints vitest's JSON report as one plain closing line: "N passed, N failed, N skipped".
const fs = require("node:fs");
const path = require("node:path");
const file = path.join(__dirname, "..", "out", "vitest-results.json");
if (!fs.existsSync(file)) {
  console.log("test-summary: no vitest report at out/vitest-results.json");
  process.exit(0);
}
const report = JSON.parse(fs.readFileSync(file, "utf8"));
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
