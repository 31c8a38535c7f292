// The gateway's HTTP error contract, with plain HTTP as an outsider would
// send it: 400 for bad input, 404 for unknown routes and ids, 405 for a known
// route with another method, 413 for a body over the limit (read by the
// client, not a reset), a JSON body with error.code on every error, and a 500
// only for the unexpected, with a code, logged.
import * as http from "node:http";
import * as net from "node:net";
import WebSocket from "ws";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { clientKey, httpProof } from "../../src/grid/auth";
import { serveRoutes } from "../../src/grid/http-router";
import { createServer, listen } from "../../src/grid/http-util";
import { eventually } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

async function gateway(): Promise<grid.Gateway> {
  const g = await grid.startGateway({ port: 0 });
  cleanups.push(() => g.close());
  return g;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: { error?: sy.SerializedError } & Record<string, unknown>;
}

/** One request, path sent as is (no normalization of "..", no re-encoding). */
function request(
  port: number,
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : {} });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** The error answer of a request: its status and error code (every error has one). */
async function failure(port: number, method: string, path: string, body?: string | Buffer) {
  const answer = await request(port, method, path, body);
  expect(answer.headers["content-type"], `${method} ${path}`).toMatch(/^application\/json/);
  expect(answer.body.error?.code, `${method} ${path}`).toMatch(/^TSYFT_ERR_/);
  return { status: answer.status, code: answer.body.error!.code, message: answer.body.error!.message, answer };
}

describe("gateway HTTP: every error has a status and a code", () => {
  it("400 for bad input: malformed JSON, null and non-object bodies, bad percent-encoding, deep nesting", async () => {
    const { port } = await gateway();
    expect(await failure(port, "POST", "/models", "{ not json")).toMatchObject({
      status: 400,
      code: sy.ErrorCode.MALFORMED_MESSAGE,
    });
    for (const body of ["null", "[1, 2]", '"a string"', "42"]) {
      expect(await failure(port, "POST", "/join", body), body).toMatchObject({
        status: 400,
        code: sy.ErrorCode.INVALID_ARGUMENT,
        message: expect.stringMatching(/Expected a JSON object/),
      });
    }
    expect(await failure(port, "GET", "/models/%ZZ")).toMatchObject({
      status: 400,
      code: sy.ErrorCode.INVALID_ARGUMENT,
      message: expect.stringMatching(/percent-encoding/),
    });
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    expect(await failure(port, "POST", "/models", deep)).toMatchObject({
      status: 400,
      code: sy.ErrorCode.MALFORMED_MESSAGE,
      message: expect.stringMatching(/maxNestingDepth/),
    });
  });

  it("404 for unknown routes and ids, 405 with Allow for a known route and another method", async () => {
    const { port } = await gateway();
    expect(await failure(port, "GET", "/nowhere")).toMatchObject({ status: 404, code: sy.ErrorCode.NOT_FOUND });
    expect(await failure(port, "GET", "/models/ghost")).toMatchObject({ status: 404, code: sy.ErrorCode.NOT_FOUND });
    expect(await failure(port, "DELETE", "/models/ghost")).toMatchObject({ status: 404, code: sy.ErrorCode.NOT_FOUND });
    // A heartbeat must be signed by the node: an unsigned one is refused before the registry is consulted.
    expect(await failure(port, "POST", "/heartbeat", '{"id":"ghost"}')).toMatchObject({
      status: 401,
      code: sy.ErrorCode.AUTH,
    });
    const wrongMethod = await failure(port, "DELETE", "/nodes");
    expect(wrongMethod).toMatchObject({ status: 405, code: sy.ErrorCode.METHOD_NOT_ALLOWED });
    expect(wrongMethod.answer.headers.allow).toBe("GET");
    expect((await failure(port, "PUT", "/models")).answer.headers.allow).toBe("GET, POST");
    expect((await failure(port, "GET", "/join")).status).toBe(405);
  });

  it("413 for a 2 MB body, read by the client; the connection and the gateway go on", async () => {
    const { port } = await gateway();
    const big = JSON.stringify({ id: "x", blob: "a".repeat(2 * 1024 * 1024) });
    expect(await failure(port, "POST", "/models", big)).toMatchObject({
      status: 413,
      code: sy.ErrorCode.MESSAGE_TOO_LARGE,
      message: expect.stringMatching(/maxHttpBodyBytes/),
    });
    // Far past the limit (over 64 times it) the gateway answers at once and closes the connection after the 413.
    const huge = await request(port, "POST", "/join", Buffer.alloc(80 * 1024 * 1024, 0x20));
    expect(huge.status).toBe(413);
    expect(huge.headers.connection).toBe("close");
    expect((await request(port, "GET", "/health")).status).toBe(200);
  });

  it("model ids .., __proto__, a\\u0000b and a 100 KB node id are refused with 400", async () => {
    const g = await gateway();
    const port = g.port;
    const model = (id: string) =>
      JSON.stringify({
        id,
        mpc: false,
        allowRemoteInference: true,
        allowDownload: false,
        nodes: { host: "bob", holders: [] },
      });
    for (const id of ["..", "__proto__", "a\u0000b", "constructor", "x".repeat(129), "a/b"]) {
      expect(await failure(port, "POST", "/models", model(id)), JSON.stringify(id)).toMatchObject({
        status: 400,
        code: sy.ErrorCode.INVALID_ID,
      });
    }
    for (const path of ["/models/..", "/models/%2E%2E", "/models/__proto__", "/models/a%00b"]) {
      expect(await failure(port, "GET", path), path).toMatchObject({ status: 400, code: sy.ErrorCode.INVALID_ID });
    }
    const bigId = JSON.stringify({ id: "n".repeat(100 * 1024), address: "ws://127.0.0.1:3000" });
    expect(await failure(port, "POST", "/join", bigId)).toMatchObject({ status: 400, code: sy.ErrorCode.WORKER_ID });
    expect(await failure(port, "POST", "/leave", '{"id":"__proto__"}')).toMatchObject({
      status: 400,
      code: sy.ErrorCode.WORKER_ID,
    });
    // A good id still registers (signed by the admin: registry writes need a proof).
    const authorization = httpProof({ pair: clientKey(g.adminToken!).pair }, "POST", "/models", model("toy"));
    expect((await request(port, "POST", "/models", model("toy"), { authorization })).status).toBe(201);
    expect((await request(port, "GET", "/models/toy")).status).toBe(200);
  });

  it("an HTTP request whose headers stall is cut off after partialFrameMs", async () => {
    const previous = sy.configure({ partialFrameMs: 300 });
    cleanups.push(() => sy.configure(previous));
    const { port } = await gateway();
    const socket = net.connect(port, "127.0.0.1");
    cleanups.push(() => socket.destroy());
    socket.on("error", () => undefined);
    let answer = "";
    socket.on("data", (chunk: Buffer) => (answer += chunk.toString()));
    socket.write("POST /join HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    await new Promise<void>((resolve) => socket.once("close", () => resolve()));
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect((await request(port, "GET", "/health")).status).toBe(200);
  });

  it("an unexpected failure is a 500 with TSYFT_ERR_INTERNAL, and is logged", async () => {
    const logged: string[] = [];
    const server = createServer(
      serveRoutes({
        name: "test",
        routes: [
          {
            method: "GET",
            path: "/boom",
            handle: () => {
              throw new TypeError("x is undefined");
            },
          },
        ],
        log: (message, error) => logged.push(`${message} ${(error as Error).message}`),
      }),
    );
    const port = await listen(server, 0, "127.0.0.1");
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    const boom = await failure(port, "GET", "/boom");
    expect(boom).toMatchObject({ status: 500, code: sy.ErrorCode.INTERNAL });
    expect(boom.message).toMatch(/failed unexpectedly \(x is undefined\)/);
    expect(logged).toEqual([expect.stringMatching(/internal error on GET \/boom: x is undefined/)]);
  });
});

describe("gateway WebSocket: the same checks on JSON messages", () => {
  it("deep nesting, bad searches and bad ids get typed errors; the socket serves on", async () => {
    const g = await gateway();
    const socket = new WebSocket(g.url.replace("http", "ws"));
    cleanups.push(() => socket.terminate());
    const answers: Array<Record<string, unknown>> = [];
    socket.on("message", (data) => answers.push(JSON.parse(data.toString())));
    await new Promise((resolve) => socket.once("open", resolve));
    const ask = async (text: string) => {
      const before = answers.length;
      socket.send(text);
      await eventually(() => answers.length > before, 5_000, "an answer");
      return answers[before]!;
    };
    expect(await ask(`{"type":"nodes","x":${"[".repeat(10_000)}${"]".repeat(10_000)}}`)).toMatchObject({
      ok: false,
      error: { code: sy.ErrorCode.MALFORMED_MESSAGE },
    });
    expect(await ask(JSON.stringify({ type: "models", search: { query: 42 } }))).toMatchObject({
      ok: false,
      error: { code: sy.ErrorCode.INVALID_ARGUMENT },
    });
    expect(await ask(JSON.stringify({ type: "heartbeat", id: { toString: 1 } }))).toMatchObject({
      ok: false,
      error: { code: sy.ErrorCode.WORKER_ID },
    });
    expect(await ask("null")).toMatchObject({ ok: false, error: { code: sy.ErrorCode.INVALID_ARGUMENT } });
    expect(await ask(JSON.stringify({ type: "nodes", rid: 7 }))).toMatchObject({ ok: true, rid: 7, nodes: [] });
  });
});
