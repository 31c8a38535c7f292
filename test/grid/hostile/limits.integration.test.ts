// Issue 10, "No limits", at the nodes (child processes, measured from
// outside: replies, bytes, RSS): an 80 KB plain-op whose output is 10^8
// elements, a 128-byte dealer request for 2e7 random bits, a WebSocket frame
// announced as 200 MB and then stalled, and deeply nested MessagePack. Each
// must be refused with a typed error before the work or the memory is spent,
// and the node must keep serving the toy.
import { describe, expect, it } from "vitest";
import { processRssMb } from "../../../bench/suites/load";
import { Channel, encodeGridFrame } from "../../../src/grid/framing";
import type { Reply } from "../../../src/workers/messages";
import { LIMIT_CODES } from "./api";
import { RawNodeSocket, announceStalledFrame, codeOf, tcpClosed } from "./attacker";
import {
  ANSWER,
  anonymousSocket,
  expectAnswerKept,
  malloryLink,
  sweepAfterAttacks,
  useToyGrid,
  userSocket,
  type ToyGrid,
} from "./toy-grid";

let g: ToyGrid;
useToyGrid((grid) => (g = grid));

/** How much a node's RSS may grow while refusing an attack (the attacks in the issue took 320 MB to 2.3 GB). */
const RSS_SLACK_MB = 150;

const plain = (shape: number[]) => ({
  kind: "plain",
  value: { dtype: "float32", shape, values: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1) },
});

describe("plain-op output size", () => {
  it("an 80 KB plain-op add of [10000, 1] + [1, 10000] is refused before computing; the node stays small", async () => {
    const alice = g.nodes.alice;
    const rss = processRssMb(alice.pid!);
    const outcomes: Array<[string, Reply | undefined]> = [];
    for (const [who, socket] of [
      ["another user", await userSocket(g, alice, "mallory")],
      ["anonymous", await anonymousSocket(alice)],
    ] as const) {
      socket.request({
        t: "submit",
        command: {
          type: "plain-op",
          op: "add",
          inputs: [plain([10000, 1]), plain([1, 10000])],
          attrs: {},
          output: "big",
        },
      });
      outcomes.push([who, await socket.call({ t: "fetch", id: "big", remove: true }, 90_000)]);
      socket.request({ t: "release", ids: ["big"] });
    }
    const grown = processRssMb(alice.pid!) - rss;
    expect(grown, "alice's RSS growth in MB").toBeLessThan(RSS_SLACK_MB);
    expect(outcomes[0]![1]?.ok, "the add by a user").toBe(false);
    expect
      .soft(LIMIT_CODES, `a user's add: ${JSON.stringify(outcomes[0]![1])}`.slice(0, 300))
      .toContain(codeOf(outcomes[0]![1]));
    expect(outcomes[1]![1]?.ok, "the add by an anonymous client").toBe(false);
    await expectAnswerKept(g);
  }, 400_000);
});

describe("plain-op by anonymous clients", () => {
  it("an anonymous client's plain-op is refused as such (TSYFT_ERR_AUTH), whatever its size", async () => {
    const socket = await anonymousSocket(g.nodes.alice);
    for (const shape of [[2], [10000, 1]]) {
      socket.request({
        t: "submit",
        command: { type: "plain-op", op: "add", inputs: [plain(shape), plain(shape)], attrs: {}, output: "small" },
      });
      const reply = await socket.call({ t: "fetch", id: "small", remove: true });
      expect.soft(codeOf(reply), `an anonymous client's plain-op of ${JSON.stringify(shape)}`).toBe("TSYFT_ERR_AUTH");
    }
  });
});

describe("dealer request size", () => {
  const request = (from: string, holders: string[]) => ({
    kind: "request" as const,
    from,
    tag: `rb-${Date.now()}/0#dealt`,
    tensors: [],
    meta: { type: "material", holders, spec: { kind: "randomBits", shape: [20_000_000] } },
  });

  it("a 128-byte request for 2e7 random bits from an enrolled node is refused, not answered with 320 MB", async () => {
    const dan = g.nodes.dan;
    const rss = processRssMb(dan.pid!);
    const { socket } = await malloryLink(g, dan);
    socket.peer(request("mallory", ["bob", "mallory"]));
    const answer = await socket.next((r) => r.channel === "peer", 90_000);
    expect(socket.bytesReceived, "bytes dan sent back").toBeLessThan(1 << 20);
    expect(processRssMb(dan.pid!) - rss, "dan's RSS growth in MB").toBeLessThan(RSS_SLACK_MB);
    const meta = answer?.channel === "peer" ? answer.frame.meta : undefined;
    expect.soft(answer?.channel === "peer" && answer.frame.kind, "dan's answer").toBe("abort");
    expect.soft(String(meta), "the refusal names the limit").toMatch(/limit|at most|too (large|many)/i);
    socket.close();
  }, 240_000);

  it("the same request from an impostor claiming charlie (the issue's probe) gets nothing", async () => {
    const socket = await RawNodeSocket.open(g.nodes.dan.url);
    await socket.hello({ role: "peer", expect: "dan", from: "charlie", sign: false });
    socket.peer(request("charlie", ["bob", "charlie"]));
    await socket.next((r) => r.channel === "peer", 90_000);
    expect(socket.bytesReceived, "bytes dan sent the impostor").toBeLessThan(1 << 20);
    socket.close();
    await expectAnswerKept(g);
  }, 240_000);
});

describe("partial frames", () => {
  it("a WebSocket frame announced as 200 MB and then stalled: the node closes the socket and keeps serving", async () => {
    const socket = await announceStalledFrame(g.nodes.charlie.url, 200 * 1024 * 1024);
    try {
      // The design's partial-frame time closes it; today it is held open with its buffer.
      expect(await tcpClosed(socket, 90_000), "charlie closed the stalled socket").toBe(true);
    } finally {
      socket.destroy();
    }
    expect((await g.query())[0]).toBeCloseTo(ANSWER, 2);
  }, 240_000);
});

describe("nesting depth", () => {
  /** MessagePack of `depth` nested one-element arrays around nil. */
  const deep = (depth: number) => {
    const bytes = new Uint8Array(depth + 1).fill(0x91);
    bytes[depth] = 0xc0;
    return bytes;
  };
  /** A request map { t, rid, <key>: <deep> } written by hand around the nested bytes. */
  const request = (t: string, rid: number, key: string, nested: Uint8Array) => {
    const head = Buffer.concat([
      Buffer.from([0x83]),
      str("t"),
      str(t),
      str("rid"),
      Buffer.from([0xcd, rid >> 8, rid & 0xff]),
      str(key),
    ]);
    return encodeGridFrame(Channel.Request, new Uint8Array(Buffer.concat([head, nested])));
  };
  const str = (s: string) => Buffer.concat([Buffer.from([0xa0 | s.length]), Buffer.from(s)]);

  it("deeply nested MessagePack in requests: a typed error, never 'Maximum call stack size exceeded'", async () => {
    const socket = await anonymousSocket(g.nodes.bob);
    const answers: Array<[string, Reply | undefined]> = [];
    let rid = 300;
    for (const [t, key] of [
      ["store", "value"],
      ["submit", "command"],
      ["fetch", "id"],
      ["ping", "x"],
    ] as const) {
      rid++;
      socket.send(request(t, rid, key, deep(200_000)));
      const got = await socket.next(
        (r) => r.channel === "reply" && (r.reply.rid === rid || r.reply.rid === -1),
        10_000,
      );
      answers.push([t, got?.channel === "reply" ? got.reply : undefined]);
    }
    const untyped = answers.filter(([, r]) => r && !r.ok && (!r.error.code || /call stack/i.test(r.error.message)));
    expect(
      untyped.map(([t, r]) => `${t}: ${r && !r.ok ? r.error.message : ""}`),
      "untyped errors",
    ).toEqual([]);
    for (const [t, reply] of answers) {
      expect.soft(reply?.ok === false && reply.error.code, `deep ${t}`).toMatch(/^TSYFT_ERR_/);
    }
    const ping = await socket.call({ t: "ping" });
    expect(ping?.ok, "bob still answers a ping").toBe(true);
    await expectAnswerKept(g);
  });
});

sweepAfterAttacks(() => g);
