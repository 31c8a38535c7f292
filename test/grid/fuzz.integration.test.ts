// A small fuzz of what servers decode from strangers: the gateway's HTTP API
// (methods, paths, headers, bodies, signed or not) and its WebSocket, and a
// node's request decoder get random and mutated inputs (seeded, so a failure
// replays). Whatever comes: no crash, no reset, no 5xx, no untyped error
// (every error carries a TSYFT_ERR_ code), and the server answers the next
// good request.
import * as http from "node:http";
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { adminKeyPair, generateKeyPair, httpProof, issueCertificate, signMembership } from "../../src/grid/auth";
import { encodeMessage } from "../../src/core/codec";
import { encodeRequest, type Request } from "../../src/workers/messages";
import { RawSocket } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const codes = new Set<string>(Object.values(sy.ErrorCode));

/** TSYFT_FUZZ_SEED=n replays (or explores) another sequence of inputs. */
const seed = Number(process.env.TSYFT_FUZZ_SEED ?? 20_261_128);

/** A small seeded PRNG (mulberry32): the same seed, the same inputs. */
function prng(seed: number): { int(n: number): number; pick<T>(list: readonly T[]): T; bytes(n: number): Uint8Array } {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    pick: (list) => list[int(list.length)]!,
    bytes: (n) => Uint8Array.from({ length: n }, () => int(256)),
  };
}

type Rng = ReturnType<typeof prng>;

/** A random JSON-like value, at most `depth` deep. */
function randomValue(rng: Rng, depth = 4): unknown {
  const leaves = [null, true, false, 0, -1, 1e308, 2 ** 53, "", "bob", "..", "__proto__", "a\u0000b", "x".repeat(300)];
  if (depth === 0 || rng.int(3) === 0) return rng.pick(leaves);
  if (rng.int(2) === 0) return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth - 1));
  const keys = ["id", "t", "rid", "type", "address", "nodes", "holders", "mpc", "command", "__proto__", "constructor"];
  return Object.fromEntries(Array.from({ length: rng.int(5) }, () => [rng.pick(keys), randomValue(rng, depth - 1)]));
}

/** Flips, cuts, repeats or splices bytes of a valid input. */
function mutate(rng: Rng, input: Uint8Array): Uint8Array {
  const out = Array.from(input);
  for (let n = 1 + rng.int(4); n > 0; n--) {
    const at = rng.int(out.length + 1);
    switch (rng.int(4)) {
      case 0:
        if (out.length > 0) out[at % out.length] ^= 1 << rng.int(8);
        break;
      case 1:
        out.length = at;
        break;
      case 2:
        out.splice(at, 0, ...rng.bytes(1 + rng.int(8)));
        break;
      case 3:
        out.splice(at, 0, ...out.slice(at, at + rng.int(16)));
        break;
    }
  }
  return Uint8Array.from(out);
}

/** One raw HTTP request; a connection reset or other failure resolves as `reset` (never a rejection). */
function send(
  port: number,
  method: string,
  path: string,
  body?: Uint8Array,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; reset?: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: "127.0.0.1", port, method, path, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on("error", (error) => resolve({ status: 0, text: "", reset: error.message }));
    req.end(body);
  });
}

/** The TSYFT_ERR_ code of an error answer, if it has one. */
function codeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { error?: { code?: string } }).error?.code;
  } catch {
    return undefined;
  }
}

/** Strings a stranger puts where ids, addresses and queries go. */
const ODD_STRINGS = [
  "",
  "bob",
  "..",
  "__proto__",
  "a\u0000b",
  "x".repeat(3000),
  "🦊",
  "%ZZ",
  "../../etc/passwd",
  "ws://",
];

describe("fuzz", () => {
  it("the gateway's HTTP API: 400 random and mutated requests, each a typed 2xx or 4xx, and GET /health after", async () => {
    const gateway = await grid.startGateway({ port: 0 });
    cleanups.push(() => gateway.close());
    const rng = prng(seed);
    const admin = adminKeyPair(gateway.adminToken!);
    const bob = generateKeyPair();
    const bobKey = {
      pair: bob,
      cert: issueCertificate(gateway.adminToken!, { role: "node", sub: "bob", key: bob.publicKey }),
    };
    const toy = {
      id: "toy",
      mpc: true,
      allowRemoteInference: true,
      allowDownload: false,
      nodes: { host: "alice", holders: ["bob", "charlie"], provider: "dan" },
    };
    const valid = () => [
      JSON.stringify({ id: "bob", address: "ws://127.0.0.1:3000" }),
      JSON.stringify(toy),
      // Signed by bob's key: past the signature, the join's fields are checked.
      JSON.stringify(signMembership(bobKey, "join", "bob", rng.pick(["ws://127.0.0.1:3000", ...ODD_STRINGS]))),
      JSON.stringify({ ...toy, id: rng.pick(ODD_STRINGS), nodes: { host: rng.pick(ODD_STRINGS), holders: [] } }),
    ];
    const paths = [
      "/",
      "/health",
      "/nodes",
      "/join",
      "/heartbeat",
      "/leave",
      "/models",
      "/models/",
      "/models/search",
      "/models/toy",
    ];
    const oddPaths = ["/models/%ZZ", "/models/..", "/models/%2e%2e/x", "//nodes", "/models/%00", "/models?overwrite=1"];
    const bodies = () => [
      "",
      "null",
      "[]",
      "{",
      JSON.stringify(rng.pick(ODD_STRINGS)),
      `{"a":${"[".repeat(5_000)}${"]".repeat(5_000)}}`,
    ];
    const violations: string[] = [];
    for (let i = 0; i < 400; i++) {
      // A third are registry and membership writes as a client would make them, with fuzzed fields.
      const write = rng.int(3) === 0;
      const method = write
        ? rng.pick(["POST", "POST", "DELETE"])
        : rng.pick(["GET", "POST", "DELETE", "PUT", "PATCH", "OPTIONS"]);
      const path = write
        ? method === "DELETE"
          ? rng.pick(["/models/toy", `/models/${encodeURIComponent(rng.pick(ODD_STRINGS))}`])
          : rng.pick(["/models", "/models?overwrite=1", "/join", "/heartbeat", "/leave"])
        : rng.int(4) === 0
          ? rng.pick(oddPaths)
          : rng.pick(paths) +
            rng.pick(["", "", `/${encodeURIComponent(rng.pick(ODD_STRINGS))}`, "/..%2F..", `?query=${rng.int(9)}`]);
      const body = Buffer.from(
        write
          ? rng.pick(valid())
          : rng.pick([
              () => JSON.stringify(randomValue(rng)),
              () => Buffer.from(mutate(rng, Buffer.from(rng.pick(valid())))).toString("latin1"),
              () => rng.pick(valid()),
              () => rng.pick(bodies()),
              () => Buffer.from(rng.bytes(rng.int(64))).toString("latin1"),
            ])(),
        "latin1",
      );
      const headers: Record<string, string> = {};
      if (rng.int(3) === 0)
        headers["content-type"] = rng.pick(["text/plain", "application/json; charset=latin1", "x/\u00ff"]);
      if (rng.int(3) === 0)
        headers.authorization = rng.pick(["Tsyft", "Tsyft !!!", "Bearer x", `Tsyft ${"A".repeat(2000)}`]);
      // Signed by the admin: past the proof, the registry's own checks answer.
      if (rng.int(4) === 0)
        headers.authorization = httpProof({ pair: admin }, method, path, method === "GET" ? "" : body);
      if (rng.int(6) === 0) headers["x-tsyft-owner"] = rng.pick(["", "tsyft-owner.x", "x".repeat(500)]);
      const answer = await send(gateway.port, method, path, method === "GET" ? undefined : body, headers);
      const what = `${method} ${path.slice(0, 60)} ${body.toString("latin1").slice(0, 60)}`;
      if (answer.reset !== undefined) violations.push(`${what}: reset (${answer.reset})`);
      else if (![200, 201, 204, 400, 401, 403, 404, 405, 409, 413].includes(answer.status))
        violations.push(`${what}: ${answer.status} ${answer.text.slice(0, 100)}`);
      else if (answer.status >= 400 && !codes.has(codeOf(answer.text) ?? ""))
        violations.push(`${what}: ${answer.status} without a tsyft code`);
    }
    violations.push(...(await fuzzGatewaySocket(gateway.url, rng)));
    expect(violations.slice(0, 20), `seed ${seed}: ${violations.length} violations`).toEqual([]);
    expect((await send(gateway.port, "GET", "/health")).status).toBe(200);
  });

  it("a node's request decoder: 300 random and mutated requests, each error typed, and a ping answered after each", async () => {
    const node = await grid.startNode({ id: "bob", port: 0, tf });
    cleanups.push(() => node.close());
    const socket = await RawSocket.open(node.url);
    cleanups.push(() => socket.close());
    await socket.hello("bob", { token: node.adminToken });
    const rng = prng(seed + 1);
    const valid: Request[] = [
      { t: "ping", rid: 1 },
      { t: "objects", rid: 2 },
      { t: "fetch", rid: 3, id: "a-1", remove: false },
      { t: "release", ids: ["a-1", "a-2"] },
      { t: "fetch-plan", rid: 4, id: "plan", copy: true },
      {
        t: "store",
        id: "a-3",
        value: { kind: "tensor", value: { dtype: "float32", shape: [2], values: Float32Array.of(1, 2) } },
      },
      {
        t: "submit",
        command: {
          type: "plain-op",
          op: "add",
          inputs: [
            { kind: "object", id: "a-3" },
            { kind: "object", id: "a-3" },
          ],
          attrs: {},
          output: "a-4",
        },
      },
    ];
    for (let i = 0; i < 300; i++) {
      const payload =
        rng.int(3) === 0 ? encodeMessage(randomValue(rng, 6)) : mutate(rng, encodeRequest(rng.pick(valid)));
      socket.send(grid.encodeGridFrame(grid.Channel.Request, payload));
      const rid = 1_000_000 + i;
      socket.request({ t: "ping", rid });
      // Every reply up to the ping's: an answer, or an error with a tsyft code.
      for (;;) {
        const reply = await socket.nextReply();
        if (!reply.ok) {
          expect(
            codes.has(reply.error.code),
            `${Buffer.from(payload).toString("hex").slice(0, 120)}: ${reply.error.message}`,
          ).toBe(true);
        }
        if (reply.rid === rid) {
          expect(reply).toEqual({ rid, ok: true, value: "bob" });
          break;
        }
      }
    }
    expect(socket.closed).toBeUndefined();
  });
});

/** Sends 100 fuzzed JSON texts to the gateway's WebSocket; returns the answers that were not typed. */
async function fuzzGatewaySocket(url: string, rng: Rng): Promise<string[]> {
  const socket = new WebSocket(url.replace(/^http/, "ws"));
  cleanups.push(() => socket.terminate());
  socket.on("error", () => undefined);
  await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
  const answers: Array<{ ok?: boolean; rid?: unknown; error?: { code?: string } }> = [];
  socket.on("message", (data) => answers.push(JSON.parse(data.toString()) as (typeof answers)[number]));
  for (let i = 0; i < 100; i++) {
    const type = rng.pick(["join", "heartbeat", "leave", "nodes", "models", "subscribe", ...ODD_STRINGS]);
    socket.send(
      rng.int(5) === 0
        ? rng.pick(ODD_STRINGS)
        : JSON.stringify({ type, ...(randomValue(rng) as object), search: randomValue(rng, 2) }),
    );
  }
  socket.send(JSON.stringify({ type: "nodes", rid: "last" }));
  const deadline = Date.now() + 30_000;
  while (!answers.some((a) => a.rid === "last") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const out = answers
    .filter((a) => a.ok === false && !codes.has(a.error?.code ?? ""))
    .map((a) => `ws: untyped ${JSON.stringify(a).slice(0, 120)}`);
  if (!answers.some((a) => a.rid === "last")) out.push("ws: no answer to the last message");
  return out;
}
