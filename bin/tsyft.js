#!/usr/bin/env node
// The tsyft command line: see src/grid/cli.ts (run `npm run build` first).
"use strict";
const { main } = require("../dist/src/grid/cli.js");

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 100).unref();
});
