#!/usr/bin/env node
/**
 * Builds the browser bundle dist/web/tsyft.js (ESM, minified) from src/web/index.ts, and the page's
 * script dist/web/page.js, with esbuild. Node's modules are swapped for src/web/node/ (the browser's
 * crypto, WebSocket and fetch; ring.wasm embedded; nothing for servers' modules); the one grid file
 * with a browser twin, http-exchange.ts, is swapped by path. Writes dist/web/meta.json (esbuild's
 * metafile, with --metafile) for test/web/bundle.test.ts, which checks that none of Node's modules is in the bundle.
 *
 *   node scripts/build-web.mjs [--outdir <dir>] [--metafile]   (default dist/web; tests build into their own folder
 *                                                           and ask for meta.json, which the package does not ship)
 */
import * as esbuild from "esbuild";
import * as fs from "node:fs";
import * as path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const web = (file) => path.join(root, "src/web/node", file);
const at = process.argv.indexOf("--outdir");
const out = at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : path.join(root, "dist/web");

/** Node's modules on the client path, and what the browser gets instead. */
const nodeModules = {
  crypto: web("crypto.ts"),
  async_hooks: web("async-hooks.ts"),
  perf_hooks: web("perf-hooks.ts"),
  fs: web("fs.ts"),
  path: web("path.ts"),
  ...Object.fromEntries(
    ["http", "https", "net", "tls", "stream", "os", "util", "url"].map((m) => [m, web("absent.ts")]),
  ),
};
const alias = {
  ...Object.fromEntries(
    Object.entries(nodeModules).flatMap(([m, file]) => [
      [m, file],
      [`node:${m}`, file],
    ]),
  ),
  ws: web("ws.ts"),
  buffer: path.join(root, "node_modules/buffer/index.js"),
};

/** Grid files with a browser twin in src/web/node (the same exports, checked by the twin's types). */
const twins = { [path.join(root, "src/grid/http-exchange.ts")]: web("http-exchange.ts") };

const swapTwins = {
  name: "browser-twins",
  setup(build) {
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const target = path.resolve(args.resolveDir, args.path);
      const twin = twins[`${target}.ts`] ?? twins[target];
      // The twin itself imports the original's types and shared helpers.
      return twin && args.importer !== twin ? { path: twin } : undefined;
    });
  },
};

const common = {
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  minify: true,
  sourcemap: false,
  metafile: true,
  legalComments: "none",
  alias,
  plugins: [swapTwins],
  inject: [web("globals.ts")],
  loader: { ".wasm": "binary" },
  // package-root.ts walks up from __dirname; the bundle lives at the root of its own file system (fs.ts).
  define: { global: "globalThis", __dirname: JSON.stringify("/") },
  logLevel: "warning",
  // Server code that imports node:http etc. is in files the client also uses (http-util.ts); it is
  // tree-shaken away, but esbuild warns first that absent.ts has no such export.
  logOverride: { "import-is-undefined": "silent" },
};

// Chunk names carry a hash of their content: a clean folder keeps last build's chunks from piling up.
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(out, { recursive: true });
const lib = await esbuild.build({
  ...common,
  entryPoints: { tsyft: path.join(root, "src/web/index.ts"), page: path.join(root, "src/web/page/main.ts") },
  outdir: out,
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
if (process.argv.includes("--metafile")) fs.writeFileSync(path.join(out, "meta.json"), JSON.stringify(lib.metafile));
fs.copyFileSync(path.join(root, "src/web/page/index.html"), path.join(out, "index.html"));
for (const [file, info] of Object.entries(lib.metafile.outputs))
  if (file.endsWith(".js")) console.log(`${path.relative(root, file)}  ${(info.bytes / 1024).toFixed(0)} KB`);
