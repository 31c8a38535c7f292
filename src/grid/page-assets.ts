/**
 * The gateway's web page: `GET /` from a browser (Accept: text/html) is the page of dist/web
 * (src/web/page), and `/tsyft.js`, `/page.js`, `/chunks/*.js` are the browser bundle it loads
 * (scripts/build-web.mjs). Everything else, and `GET /` asked for JSON, goes to the gateway's API.
 * The page queries the model holders itself, over WebSockets: nodes take a page's sockets only from
 * their gateway's origin (NodeOptions.allowedOrigins), and the page's policy allows scripts from here only.
 *
 * @example
 * ```ts
 * const listener = withPage(serveRoutes({ name: "gateway", routes }));   // then open http://localhost:5000/
 * ```
 */
import * as fs from "node:fs";
import type * as http from "node:http";
import * as path from "node:path";
import { packageRoot } from "../core/package-root";

/** Names another folder for the page and bundle than the package's dist/web (a test's own build). */
export const WEB_DIR_ENV = "TSYFT_WEB_DIR";

/** Where the built page and bundle are (npm run build:web), or TSYFT_WEB_DIR. */
export function webAssetsDir(): string {
  return process.env[WEB_DIR_ENV] ?? path.join(packageRoot(), "dist", "web");
}

const TYPES: Record<string, string> = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8" };

/**
 * Scripts from this origin only (vega compiles chart expressions, hence unsafe-eval; TF.js and the ring
 * kernels compile WebAssembly); sockets and requests to the grid's nodes, which are on other ports.
 */
const CSP = [
  "default-src 'self'",
  "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' ws: wss: http: https:",
].join("; ");

/** The file under dist/web that a request asks for, if it asks for the page or its scripts. */
function assetOf(req: http.IncomingMessage): string | undefined {
  if (req.method !== "GET" && req.method !== "HEAD") return undefined;
  const pathname = (req.url ?? "/").split("?", 1)[0]!;
  if (pathname === "/" || pathname === "/index.html")
    return /\btext\/html\b/.test(req.headers.accept ?? "") ? "index.html" : undefined;
  // Only names the build makes: no dots but the extension's, so no path leaves dist/web.
  const match = /^\/((?:chunks\/)?[A-Za-z0-9_-]+\.js)$/.exec(pathname);
  return match?.[1];
}

/**
 * A request listener that serves the page and bundle, and passes every other request to `api`.
 *
 * @example
 * ```ts
 * http.createServer(withPage(api));
 * ```
 */
export function withPage(api: http.RequestListener): http.RequestListener {
  return (req, res) => {
    const asset = assetOf(req);
    if (asset === undefined) return api(req, res);
    const file = path.join(webAssetsDir(), asset);
    fs.readFile(file, (error, bytes) => {
      if (error) {
        if (asset !== "index.html") return api(req, res); // the API's typed 404
        res.writeHead(503, { "content-type": "text/plain; charset=utf-8" });
        return res.end(`The gateway's page is not built: run \`npm run build:web\` in the tsyft directory.\n`);
      }
      res.writeHead(200, {
        "content-type": TYPES[path.extname(file)] ?? "application/octet-stream",
        "content-length": bytes.byteLength,
        "cache-control": "no-cache",
        "x-content-type-options": "nosniff",
        ...(asset === "index.html" && { "content-security-policy": CSP }),
      });
      res.end(req.method === "HEAD" ? undefined : bytes);
    });
  };
}
