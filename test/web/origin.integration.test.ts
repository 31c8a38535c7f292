/**
 * What a public endpoint needs of browser connections, attacked with raw sockets and plain HTTP: a
 * node takes WebSockets from pages of its gateway's origin only (a browser sets Origin itself, so
 * a page elsewhere cannot reach the holders), refusing others with TSYFT_ERR_ORIGIN and close 4008;
 * clients outside a browser send no Origin and are unaffected. The gateway serves its page to
 * browsers at / (JSON health stays there for API clients) and nothing outside dist/web.
 */
import * as tf from "@tensorflow/tfjs";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { decodeControl } from "../../src/grid/control";
import { Channel, decodeGridFrame, encodeGridFrame, messageBytes } from "../../src/grid/framing";
import { ALLOWED_ORIGINS_ENV, originsFromEnvironment, parseOrigins } from "../../src/grid/origins";

let grid: sy.grid.LocalGrid;

beforeAll(async () => {
  await tf.setBackend("cpu");
  grid = await sy.grid.startLocalGrid({ ports: "random", inProcess: true, tf, nodes: ["bob"] });
});
afterAll(() => grid?.stop());

/** Opens a socket to bob as a page of `origin` would, sends a frame no node takes, and reports what came back. */
function knock(
  origin: string | undefined,
  url = grid.node("bob").url,
): Promise<{ first: { channel: Channel; payload: Uint8Array }; code?: number }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, origin === undefined ? {} : { origin });
    let first: { channel: Channel; payload: Uint8Array } | undefined;
    socket.on("open", () => socket.send(encodeGridFrame(Channel.Reply, new Uint8Array([1]))));
    socket.on("message", (data) => {
      if (first) return;
      first = decodeGridFrame(messageBytes(data as Buffer));
      if (first.channel !== Channel.Control) {
        socket.close();
        resolve({ first });
      }
    });
    socket.on("close", (code) =>
      first ? resolve({ first, code }) : reject(new Error(`closed ${code}, nothing said`)),
    );
    socket.on("error", reject);
  });
}

describe("browser origins at a node", () => {
  it("a page of another origin is refused with TSYFT_ERR_ORIGIN and close 4008, before it can say anything", async () => {
    const { first, code } = await knock("http://evil.example:8080");
    expect(first.channel).toBe(Channel.Control);
    const refused = decodeControl(first.payload);
    expect(refused).toMatchObject({ t: "refused", error: { code: "TSYFT_ERR_ORIGIN" } });
    expect(code).toBe(4008);
  });

  it("the gateway's page (under either loopback name) and clients without an Origin get through", async () => {
    const gateway = new URL(grid.gateway.url);
    for (const origin of [gateway.origin, `http://localhost:${gateway.port}`, undefined]) {
      // The node answers the bad frame with an error reply: the socket got past the origin check.
      const { first } = await knock(origin);
      expect(first.channel, `origin ${origin}`).toBe(Channel.Reply);
    }
  });
});

describe("the allow-list setting", () => {
  it("parses origins, and refuses what is not one with a message naming it", () => {
    expect(parseOrigins(" http://localhost:8080, https://app.example.org/ ,*", "--allow-origin")).toEqual([
      "http://localhost:8080",
      "https://app.example.org",
      "*",
    ]);
    for (const bad of ["localhost:8080", "https://app.example.org/page", "ftp://files.example.org"]) {
      expect(() => parseOrigins(bad, "--allow-origin")).toThrow(new RegExp(`--allow-origin: expected origins.*${bad}`));
    }
    expect(originsFromEnvironment({ [ALLOWED_ORIGINS_ENV]: "http://a.example" })).toEqual(["http://a.example"]);
    expect(originsFromEnvironment({})).toBeUndefined();
  });

  it("tsyft node --allow-origin refuses a bad list before starting (exit 2)", async () => {
    expect(await sy.grid.cliMain(["node", "--id", "bob", "--allow-origin", "app.example.org"])).toBe(2);
  });

  it("a node started with TSYFT_ALLOWED_ORIGINS (what grid up --allow-origin passes) takes those pages", async () => {
    process.env[ALLOWED_ORIGINS_ENV] = "http://app.example:8080";
    let other: sy.grid.LocalGrid | undefined;
    try {
      other = await sy.grid.startLocalGrid({ ports: "random", inProcess: true, tf, nodes: ["bob"] });
      const url = other.node("bob").url;
      expect((await knock("http://app.example:8080", url)).first.channel).toBe(Channel.Reply);
      const refused = await knock("http://evil.example:8080", url);
      expect(decodeControl(refused.first.payload)).toMatchObject({ error: { code: "TSYFT_ERR_ORIGIN" } });
    } finally {
      delete process.env[ALLOWED_ORIGINS_ENV];
      await other?.stop();
    }
  });
});

describe("the gateway's page", () => {
  const get = async (path: string, accept: string) => {
    const res = await fetch(`${grid.gateway.url}${path}`, { headers: { accept } });
    return {
      status: res.status,
      type: res.headers.get("content-type") ?? "",
      csp: res.headers.get("content-security-policy"),
      text: await res.text(),
    };
  };

  it("serves the page to browsers and JSON health to API clients at /", async () => {
    const html = await get("/", "text/html,application/xhtml+xml");
    // Built by test/web/bundle.test.ts or npm run build; without it the gateway says how to build it.
    if (html.status === 200) {
      expect(html.type).toMatch(/text\/html/);
      expect(html.csp).toMatch(/script-src 'self'/);
      expect(html.text).toMatch(/<script type="module" src="\/page.js">/);
    } else {
      expect(html.status).toBe(503);
      expect(html.text).toMatch(/npm run build:web/);
    }
    const health = await get("/", "application/json");
    expect(health.type).toMatch(/application\/json/);
    expect(JSON.parse(health.text)).toHaveProperty("nodes");
  });

  it("serves nothing outside the bundle's files", async () => {
    for (const path of [
      "/../package.json",
      "/chunks/../../package.json",
      "/%2e%2e/package.json",
      "/meta.json",
      "/x.js.map",
    ]) {
      const res = await get(path, "*/*");
      expect(res.status, path).toBe(404);
      expect(res.text).not.toMatch(/"name":\s*"tsyft"/);
    }
  });
});
