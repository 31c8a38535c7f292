// Issue 10 at the gateway, with plain HTTP (and its WebSocket): taking over
// a node's entry so that users send their input shares to the attacker,
// deleting or overwriting a model, removing a node, and the malformed inputs
// that got a bare 500, a reset or were accepted (%ZZ, null, 2 MB, bad ids,
// deep nesting). Each must be refused with the right status and a typed code,
// and leave the toy answering [1022] with its secrets secret.
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import * as sy from "../../../src";
import { adminKeyPair, clientKey, generateKeyPair, issueCertificate, type KeyPair } from "../../../src/grid/auth";
import type { HostedModelInfo, RegisteredNode } from "../../../src/grid";
import {
  errorCode,
  rawHttp,
  reconstructed,
  signedHttpHeaders,
  signedJoinBody,
  startFakeNode,
  type FakeNode,
  type HttpAnswer,
} from "./attacker";
import { SECRETS, TOY, Toy, userKey, expectAnswerKept, sweepAfterAttacks, useToyGrid, type ToyGrid } from "./toy-grid";

let g: ToyGrid;
let gateway: string;
useToyGrid((grid) => {
  g = grid;
  gateway = grid.gateway.url;
});

const AUTH_STATUSES = [401, 403];

async function nodes(): Promise<RegisteredNode[]> {
  return ((await rawHttp("GET", `${gateway}/nodes`)).json as { nodes: RegisteredNode[] }).nodes;
}

async function model(id: string): Promise<HostedModelInfo | undefined> {
  const answer = await rawHttp("GET", `${gateway}/models/${encodeURIComponent(id)}`);
  return answer.status === 200 ? (answer.json as HostedModelInfo) : undefined;
}

function user(subject: string): { key: KeyPair; cert: Uint8Array } {
  return userKey(g, subject);
}

/** A request signed as the design's `Authorization: Tsyft ...` (admin: no certificate). */
function signed(
  method: string,
  path: string,
  body: string,
  who: { key: KeyPair; cert?: Uint8Array },
  extra: Record<string, string> = {},
): Promise<HttpAnswer> {
  return rawHttp(method, `${gateway}${path}`, {
    body: body === "" ? undefined : body,
    headers: { ...signedHttpHeaders(who.key, method, path, body, who.cert), ...extra },
  });
}

function asAdmin(): { key: KeyPair } {
  return { key: adminKeyPair(g.credentials.adminToken) };
}

/** A gateway WebSocket request (JSON text), answered with the same type and rid. */
async function wsCall(message: Record<string, unknown>): Promise<{ ok?: boolean; error?: { code?: string } }> {
  const socket = new WebSocket(gateway.replace(/^http/, "ws"));
  try {
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    return await new Promise((resolve) => {
      socket.once("message", (data) => resolve(JSON.parse(data.toString())));
      socket.send(JSON.stringify({ ...message, rid: 1 }));
    });
  } finally {
    socket.terminate();
  }
}

/** The answer is a typed error with one of `statuses` (never a reset, never a bare 500). */
function expectTypedRefusal(answer: HttpAnswer, statuses: number[], what: string): void {
  expect(answer.reset, `${what}: the connection was reset`).toBeUndefined();
  expect(statuses, `${what}: status ${answer.status} ${answer.text.slice(0, 200)}`).toContain(answer.status);
  expect(errorCode(answer), `${what}: a typed error code`).toMatch(/^TSYFT_ERR_/);
}

/** Each answer has its expected status (401: who are you, 403: not yours) and TSYFT_ERR_AUTH. */
function expectAuthStatuses(what: string, answers: ReadonlyArray<readonly [string, HttpAnswer, number]>): void {
  for (const [who, answer, status] of answers) {
    expect.soft(answer.status, `${what} ${who}`).toBe(status);
    expect.soft(errorCode(answer), `${what} ${who}: code`).toBe(sy.ErrorCode.AUTH);
  }
}

describe("the model registry: delete, overwrite (issue: DELETE /models/toy, POST /models?overwrite=1 need nothing)", () => {
  it("DELETE /models/toy without credentials, by another user, or with a wrong owner token: refused; the model stays", async () => {
    const before = await model(TOY);
    expect(before).toBeDefined();
    const mallory = user("mallory");
    const attempts: Array<[string, () => Promise<HttpAnswer>, number]> = [
      ["with no credentials", () => rawHttp("DELETE", `${gateway}/models/${TOY}`), 401],
      ["by another user", () => signed("DELETE", `/models/${TOY}`, "", mallory), 403],
      [
        "by another user with a made-up owner token",
        () => signed("DELETE", `/models/${TOY}`, "", mallory, { "x-tsyft-owner": "tsyft-owner.AAAA" }),
        403,
      ],
      // A valid signature by a key without a certificate proves an anonymous caller: 403, as gateway-auth.ts
      // documents (401: no proof or a wrong one; 403: a proven caller who may not do this).
      [
        "with a key the grid never certified",
        () => signed("DELETE", `/models/${TOY}`, "", { key: generateKeyPair() }),
        403,
      ],
    ];
    const answers: Array<[string, HttpAnswer, number]> = [];
    for (const [what, attempt, status] of attempts) answers.push([what, await attempt(), status]);
    expect(await model(TOY), "the toy after the delete attempts").toEqual(before);
    expectAuthStatuses("DELETE", answers);
    await expectAnswerKept(g);
  });

  it("POST /models?overwrite=1 with the attacker's placement: refused; the model stays as served", async () => {
    const before = await model(TOY);
    const hijack = JSON.stringify({
      ...before,
      allowDownload: true,
      nodes: { host: "alice", holders: ["mallory", "charlie"], provider: "dan" },
    });
    const mallory = user("mallory");
    const answers = [
      ["with no credentials", await rawHttp("POST", `${gateway}/models?overwrite=1`, { body: hijack }), 401],
      ["by another user", await signed("POST", "/models?overwrite=1", hijack, mallory), 403],
    ] as const;
    expect(await model(TOY), "the toy after the overwrite attempts").toEqual(before);
    expectAuthStatuses("overwrite", answers);
    await expectAnswerKept(g);
  });

  it("a new model needs a user or the admin: anonymous registration is refused", async () => {
    const body = JSON.stringify({
      id: "spam",
      mpc: false,
      allowRemoteInference: true,
      allowDownload: true,
      nodes: { host: "alice", holders: [] },
    });
    const answer = await rawHttp("POST", `${gateway}/models`, { body });
    expect(await model("spam"), "an anonymous registration").toBeUndefined();
    expectTypedRefusal(answer, [401], "anonymous POST /models");
  });

  it("the owner deletes its own model with the ownerToken serveModel gave it", async () => {
    const net = g.owner;
    const second = new Toy({ id: "toy-2" });
    await second.build(tf.tensor([1, 2]));
    const served = (await net.serveModel(second, { id: "toy-2", mpc: true, allowRemoteInference: true })) as {
      ownerToken?: string;
    };
    expect(served.ownerToken, "serveModel's ownerToken").toMatch(/^tsyft-owner\./);
    const owner = clientKey(g.ownerToken);
    if (owner.kind !== "user") throw new Error("the owner holds a user token");
    const answer = await signed(
      "DELETE",
      "/models/toy-2",
      "",
      { key: owner.pair, cert: owner.cert },
      {
        "x-tsyft-owner": served.ownerToken ?? "",
      },
    );
    expect(answer.status, answer.text).toBe(204);
    expect(await model("toy-2")).toBeUndefined();
  });
});

describe("node membership (issue: POST /leave needs nothing)", () => {
  it("POST /leave and a WebSocket leave for bob, unsigned or signed by another key: refused; bob stays online", async () => {
    const answers = [
      ["unsigned", await rawHttp("POST", `${gateway}/leave`, { body: JSON.stringify({ id: "bob" }) })],
      [
        "signed by the attacker's key",
        await rawHttp("POST", `${gateway}/leave`, {
          body: JSON.stringify(signedJoinBody(generateKeyPair(), "leave", "bob", undefined)),
        }),
      ],
    ] as const;
    const ws = await wsCall({ type: "leave", id: "charlie" });
    const online = (await nodes()).filter((n) => n.status === "online").map((n) => n.id);
    expect(online, "nodes online after the leave attempts").toEqual(expect.arrayContaining(["bob", "charlie"]));
    for (const [what, answer] of answers) expectTypedRefusal(answer, AUTH_STATUSES, `leave ${what}`);
    expect.soft(ws.ok, "WebSocket leave").toBe(false);
    expect.soft(ws.error?.code, "WebSocket leave: code").toBe(sy.ErrorCode.AUTH);
    await expectAnswerKept(g);
  });
});

describe("malformed requests: 400/404/413 with a code, never a reset or a bare 500", () => {
  it("GET /models/%ZZ (bad percent-encoding): 400", async () => {
    expectTypedRefusal(await rawHttp("GET", `${gateway}/models/%ZZ`), [400], "GET /models/%ZZ");
    expectTypedRefusal(await rawHttp("DELETE", `${gateway}/models/%ZZ`), [400, 401], "DELETE /models/%ZZ");
  });

  it("a null JSON body (join, heartbeat, leave, models): 400", async () => {
    for (const path of ["/join", "/heartbeat", "/leave"]) {
      expectTypedRefusal(await rawHttp("POST", `${gateway}${path}`, { body: "null" }), [400], `POST ${path} null`);
    }
    expectTypedRefusal(await signed("POST", "/models", "null", asAdmin()), [400], "POST /models null (admin)");
  });

  it("a 2 MB body: 413, not a reset", async () => {
    const big = JSON.stringify({ id: "bob", address: "ws://127.0.0.1:1", pad: "x".repeat(2 << 20) });
    expectTypedRefusal(await rawHttp("POST", `${gateway}/join`, { body: big }), [413], "2 MB POST /join");
    expectTypedRefusal(await signed("POST", "/models", big, asAdmin()), [413], "2 MB POST /models (admin)");
    expect((await rawHttp("GET", `${gateway}/health`)).status).toBe(200);
  });

  it('model ids "..", "__proto__", "constructor", "a\\u0000b", "a/b" and 100 KB: 400, never registered', async () => {
    const ids = ["..", "__proto__", "constructor", "a\u0000b", "a b", "x".repeat(100 * 1024)];
    for (const id of ids) {
      const body = JSON.stringify({
        id,
        mpc: false,
        allowRemoteInference: true,
        allowDownload: false,
        nodes: { host: "alice", holders: [] },
      });
      const shown = JSON.stringify(id.slice(0, 20));
      expectTypedRefusal(await signed("POST", "/models", body, asAdmin()), [400], `POST /models id ${shown}`);
    }
    const listed = ((await rawHttp("GET", `${gateway}/models`)).json as { models: HostedModelInfo[] }).models;
    expect(listed.map((m) => m.id).filter((id) => ids.includes(id))).toEqual([]);
    for (const id of ["..", "__proto__"]) {
      const answer = await rawHttp("GET", `${gateway}/models/${encodeURIComponent(id)}`);
      expect([400, 404], `GET /models/${id}: ${answer.status}`).toContain(answer.status);
    }
  });

  it("a node id of 100 KB (with a certificate the admin issued for it): 400, never listed", async () => {
    const id = "n".repeat(100 * 1024);
    const key = generateKeyPair();
    const cert = issueCertificate(g.credentials.adminToken, { role: "node", sub: id, key: key.publicKey });
    const answer = await rawHttp("POST", `${gateway}/join`, {
      body: JSON.stringify(signedJoinBody(key, "join", id, "ws://127.0.0.1:9", cert)),
    });
    expect(
      (await nodes()).some((n) => n.id === id),
      "the 100 KB id listed",
    ).toBe(false);
    expectTypedRefusal(answer, [400], "join with a 100 KB id");
  });

  it("deep JSON nesting: 400 with a code", async () => {
    const deep = `{"id":"deep","x":${"[".repeat(100_000)}${"]".repeat(100_000)}}`;
    expectTypedRefusal(await rawHttp("POST", `${gateway}/join`, { body: deep }), [400], "deep POST /join");
    expectTypedRefusal(await signed("POST", "/models", deep, asAdmin()), [400], "deep POST /models (admin)");
    expect((await rawHttp("GET", `${gateway}/health`)).status).toBe(200);
    await expectAnswerKept(g);
  });
});

// Last: on today's code this takes the grid over for good.
describe("node entries (issue: POST /join as bob and charlie with the attacker's address)", () => {
  let fakes: FakeNode[] = [];
  afterAll(async () => {
    await Promise.all(fakes.map((f) => f.close()));
  });

  it("joins for bob and charlie by anyone but them are refused; the next user's input never reaches the attacker", async () => {
    const real = Object.fromEntries((await nodes()).map((n) => [n.id, n.address]));
    const [fakeBob, fakeCharlie] = await Promise.all([startFakeNode("bob"), startFakeNode("charlie")]);
    fakes = [fakeBob!, fakeCharlie!];
    const mallory = user("bob");
    const answers = [
      [
        "an unsigned join as bob",
        await rawHttp("POST", `${gateway}/join`, { body: JSON.stringify({ id: "bob", address: fakeBob!.url }) }),
      ],
      [
        "a join as bob signed by the attacker's key",
        await rawHttp("POST", `${gateway}/join`, {
          body: JSON.stringify(signedJoinBody(generateKeyPair(), "join", "bob", fakeBob!.url)),
        }),
      ],
      [
        "a join as charlie with a user certificate named charlie",
        await rawHttp("POST", `${gateway}/join`, {
          body: JSON.stringify(signedJoinBody(mallory.key, "join", "charlie", fakeCharlie!.url, mallory.cert)),
        }),
      ],
      [
        "an unsigned join as charlie",
        await rawHttp("POST", `${gateway}/join`, {
          body: JSON.stringify({ id: "charlie", address: fakeCharlie!.url }),
        }),
      ],
    ] as const;
    const ws = await wsCall({ type: "join", id: "charlie", address: fakeCharlie!.url });
    const after = Object.fromEntries((await nodes()).map((n) => [n.id, n.address]));
    // A new user, who asks the gateway where the holders are.
    const answer = await g.query().catch((e: unknown) => e);
    const stolen = reconstructed(fakeBob!.shares, fakeCharlie!.shares, SECRETS);
    expect(stolen, "what the attacker's servers reconstructed").toEqual([]);
    expect(fakeBob!.connections + fakeCharlie!.connections, "users sent to the attacker's servers").toBe(0);
    expect({ bob: after.bob, charlie: after.charlie }, "the holders' entries").toEqual({
      bob: real.bob,
      charlie: real.charlie,
    });
    expect(Array.isArray(answer) ? answer[0] : answer, "the next user's answer").toBeCloseTo(1022, 2);
    for (const [what, refused] of answers) expectTypedRefusal(refused, AUTH_STATUSES, what);
    expect.soft(ws.ok, "WebSocket join as charlie").toBe(false);
    expect.soft(ws.error?.code, "WebSocket join: code").toBe(sy.ErrorCode.AUTH);
    await expectAnswerKept(g);
  });
});

// Last: on today's code this request ends the gateway process (found by fuzz.integration.test.ts).
describe("a path that is not a URL", () => {
  it("DELETE //a%00b (parsed as a host): 400 with a code, and the gateway stays up", async () => {
    const answer = await rawHttp("DELETE", `${gateway}//a%00b`);
    const health = await rawHttp("GET", `${gateway}/health`);
    expect(health.status, `the gateway after the request: ${health.reset ?? health.status}`).toBe(200);
    expectTypedRefusal(answer, [400, 404], "DELETE //a%00b");
  });
});

sweepAfterAttacks(() => g);
