#!/usr/bin/env node
// The tsyft command line: see src/cli.ts and src/grid/cli.ts (run `npm run build` first).
"use strict";
const { main } = require("../dist/src/cli.js");

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  setTimeout(() => process.exit(code), 100).unref();
});
