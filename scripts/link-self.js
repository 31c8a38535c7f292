#!/usr/bin/env node
/**
 * Makes the repository resolvable as the package "tsyft" from notebooks under
 * it: node_modules/tsyft -> .. (the repository root, whose package.json main
 * and types point into dist/). tslab compiles cells with Node10 resolution and
 * runs them with Node's require, so `import * as sy from "tsyft"` then finds
 * dist/src/index.{js,d.ts}. Idempotent; meant to run after the build (and the
 * kernel checks again when it starts, since `npm install` prunes the link).
 */
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const modules = path.join(root, "node_modules");
const link = path.join(modules, "tsyft");

function main() {
  if (!fs.existsSync(modules)) {
    console.error("link-self: no node_modules folder; run npm install first");
    return 1;
  }
  try {
    const stat = fs.lstatSync(link);
    if (stat.isSymbolicLink() && fs.realpathSync(link) === fs.realpathSync(root)) return 0;
    console.error(`link-self: ${link} exists and is not a link to ${root}; leaving it alone`);
    return 0;
  } catch {
    // not there yet
  }
  if (process.platform === "win32") fs.symlinkSync(root, link, "junction");
  else fs.symlinkSync("..", link, "dir");
  console.log(`link-self: ${path.relative(root, link)} -> ${root}`);
  return 0;
}

process.exitCode = main();
