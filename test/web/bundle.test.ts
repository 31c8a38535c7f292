/**
 * The browser bundle (scripts/build-web.mjs): built here, then its metafile is read to check that no
 * Node-only module (Node's built-ins, ws, the databases, child processes...) went into it, and that
 * its parts come from the one source tree (src/), not a fork. Prints its size.
 */
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = path.resolve(__dirname, "../..");
/** Its own build (npm run build writes dist/web; tests running meanwhile must not see half a file). */
const out = path.join(root, "out/web-bundle-test");
const prefix = `${path.relative(root, out)}/`;

interface Metafile {
  inputs: Record<string, { imports: { path: string; external?: boolean }[] }>;
  outputs: Record<
    string,
    { bytes: number; imports?: { path: string }[]; inputs: Record<string, { bytesInOutput: number }> }
  >;
}

/** Packages that only a server or Node process may use. */
const NODE_ONLY_PACKAGES = [
  "ws",
  "classic-level",
  "@electric-sql/pglite",
  "pg",
  "zeromq",
  "sharp",
  "tslab",
  "arquero",
  "mnist",
  "@tensorflow/tfjs-backend-wasm",
];
const NODE_BUILTINS = ["fs", "path", "child_process", "net", "http", "https", "tls", "os", "crypto", "async_hooks"];

let meta: Metafile;

beforeAll(() => {
  if (!fs.existsSync(path.join(root, "build/ring.wasm")))
    execFileSync("node", ["scripts/build-wasm.js"], { cwd: root });
  execFileSync("node", ["scripts/build-web.mjs", "--outdir", out, "--metafile"], { cwd: root, stdio: "pipe" });
  meta = JSON.parse(fs.readFileSync(path.join(out, "meta.json"), "utf8")) as Metafile;
});

describe("the browser bundle", () => {
  it("holds none of Node's modules nor any Node-only package", () => {
    const inputs = Object.keys(meta.inputs);
    const packages = new Set(
      inputs
        .filter((f) => f.includes("node_modules/"))
        .map((f) => {
          const parts = f.slice(f.lastIndexOf("node_modules/") + "node_modules/".length).split("/");
          return parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
        }),
    );
    for (const p of NODE_ONLY_PACKAGES) expect(packages.has(p), `package ${p} in the bundle`).toBe(false);
    const imports = Object.values(meta.inputs).flatMap((i) => i.imports);
    for (const m of NODE_BUILTINS) {
      expect(imports.filter((i) => i.path === m || i.path === `node:${m}`)).toEqual([]);
    }
    // Nothing is left for the browser to resolve at run time: the output imports only its own chunks.
    const outImports = Object.values(meta.outputs).flatMap((o) => o.imports ?? []);
    expect(outImports.filter((i) => !i.path.startsWith(prefix))).toEqual([]);
    // The Node-only parts of tsyft stay out: servers, the CLI, storage, the kernel.
    const nodeOnlySources = inputs.filter((f) =>
      /^(src\/grid\/(node|gateway|cli|local-grid|processes|kv-store|http-exchange)\.ts|src\/domain\/|kernel\/)/.test(f),
    );
    expect(nodeOnlySources).toEqual([]);
  });

  it("is one source tree: the library's own files, with only src/web/node standing in for Node", () => {
    const library = Object.keys(meta.inputs).filter((f) => f.startsWith("src/"));
    expect(library).toContain("src/grid/public-grid.ts");
    expect(library).toContain("src/mpc/provider/trusted-dealer.ts");
    expect(
      library.filter((f) => f.startsWith("src/web/") && !/^src\/web\/(node|page)\/|^src\/web\/index\.ts$/.test(f)),
    ).toEqual([]);
  });

  it("is an ES module the gateway can serve; prints its size", () => {
    /** An output file and the chunks it imports, transitively. */
    const closure = (file: string, seen = new Set<string>()): Set<string> => {
      if (seen.has(file)) return seen;
      seen.add(file);
      for (const i of meta.outputs[file]?.imports ?? []) closure(i.path, seen);
      return seen;
    };
    const library = closure(`${prefix}tsyft.js`);
    const page = [...closure(`${prefix}page.js`)].filter((f) => !library.has(f));
    const bytes = (files: Iterable<string>, only: (input: string) => boolean = () => true) =>
      [...files].reduce(
        (sum, f) =>
          sum +
          Object.entries(meta.outputs[f]!.inputs)
            .filter(([input]) => only(input))
            .reduce((n, [, i]) => n + i.bytesInOutput, 0),
        0,
      );
    const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
    const size = bytes(library);
    console.log(
      `browser bundle: tsyft.js with its chunks ${kb(size)} minified (TensorFlow.js ${kb(bytes(library, (f) => f.includes("@tensorflow/")))}, ` +
        `tsyft's own code ${kb(bytes(library, (f) => f.startsWith("src/")))}); the page adds ${kb(bytes(page))} (vega, vega-lite, its own code)`,
    );
    expect(fs.readFileSync(path.join(out, "tsyft.js"), "utf8")).toMatch(/export\s*\{/);
    expect(size).toBeGreaterThan(0);
  });
});
