// Issue 10, item 7: a fuzz test of node inputs (the gateway's routes are
// fuzzed in test/grid/fuzz.integration.test.ts). Seeded random input
// (reproducible: the seed and the failing inputs are in the message) on every
// channel of a node, as an anonymous client, as a socket that never said
// hello and as an enrolled node.
// Every answer must be a typed error (TSYFT_ERR_*, never "Maximum call
// stack" or a bare TypeError), HTTP never a 500 or a reset, every server
// must keep serving, and afterwards the toy must answer [1022] with its
// secrets secret.
import { describe, expect, it } from "vitest";
import { encodeMessage } from "../../../src/core/codec";
import { isAlive } from "../../../src/grid/processes";
import { RingTensor } from "../../../src/ring";
import { Channel, encodeGridFrame } from "../../../src/grid/framing";
import { RawNodeSocket, type Received } from "./attacker";
import {
  anonymousSocket,
  expectAnswerKept,
  malloryLink,
  sweepAfterAttacks,
  useToyGrid,
  type Member,
  type ToyGrid,
} from "./toy-grid";

let g: ToyGrid;
useToyGrid((grid) => (g = grid));

const SEED = 20_261_128;

/** The request types of workers/messages.ts, as an attacker reads them off the wire. */
const REQUEST_TYPES = "submit store fetch release objects clear ping store-plan fetch-plan".split(" ");

/** mulberry32: a small seeded PRNG, so that a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Fuzz {
  constructor(readonly random: () => number) {}

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }

  string(): string {
    return this.pick([
      "",
      "bob",
      "..",
      "__proto__",
      "constructor",
      "a\u0000b",
      "x".repeat(this.int(3000)),
      "🦊".repeat(this.int(20)),
      "%ZZ",
      "../../etc/passwd",
      String(this.random()),
    ]);
  }

  /** Any MessagePack value, nested up to `depth`. */
  value(depth = 3): unknown {
    const kinds = depth > 0 ? 14 : 10;
    switch (this.int(kinds)) {
      case 0:
        return null;
      case 1:
        return this.random() < 0.5;
      case 2:
        return this.pick([0, -1, 2 ** 31, -(2 ** 53), Number.MAX_SAFE_INTEGER, 1e300, NaN, Infinity, -0.5]);
      case 3:
        return BigInt.asIntN(64, BigInt(this.int(2 ** 30)) << BigInt(this.int(40)));
      case 4:
      case 5:
        return this.string();
      case 6:
        return new Uint8Array(this.int(64)).map(() => this.int(256));
      case 7:
        return new Float32Array(this.int(16)).map(() => this.random() * 1e6 - 5e5);
      case 8:
        return new BigInt64Array(this.int(16)).map(() => BigInt(this.int(1e9)));
      case 9:
        return new RingTensor(new BigInt64Array(4), this.pick([[4], [2, 2], [1, 4]]));
      case 10:
      case 11:
        return Array.from({ length: this.int(5) }, () => this.value(depth - 1));
      default: {
        // Keys such as "__proto__" become own keys on the wire, as an attacker would send them.
        const out: Record<string, unknown> = Object.create(null);
        for (let i = this.int(5); i > 0; i--) {
          const key = this.pick(["t", "rid", "id", "kind", "value", this.string()]);
          Object.defineProperty(out, key, { value: this.value(depth - 1), enumerable: true, writable: true });
        }
        return out;
      }
    }
  }

  /** A request: a real type with fields of any type, or anything at all. */
  request(): Record<string, unknown> {
    const t = this.pick([...REQUEST_TYPES, this.string()]);
    const fields: Record<string, unknown> = { t };
    if (this.random() < 0.8) fields.rid = this.random() < 0.8 ? 1 + this.int(1e6) : this.value(1);
    for (const key of ["id", "value", "command", "ids", "plan", "copy", "token", "remove"]) {
      if (this.random() < 0.4) fields[key] = this.value();
    }
    if (t === "submit" && this.random() < 0.7) {
      fields.command = {
        type: this.pick(["plain-op", "shared-op", "run-plan", "run-hosted-plan", "preprocess-plan", this.string()]),
        op: this.pick(["add", "matmul", "relu", "conv2d", this.string()]),
        inputs: [this.value(), this.value()],
        attrs: this.value(),
        output: this.string(),
        outputs: this.value(),
        holders: this.value(),
        ir: this.value(),
        state: this.value(),
        runId: this.string(),
      };
    }
    return fields;
  }

  control(): Record<string, unknown> {
    const message: Record<string, unknown> = {
      t: this.pick(["hello", "link", "status", "welcome", "result", "refused", this.string()]),
    };
    for (const key of ["rid", "role", "expect", "from", "url", "boot", "id", "auth", "ok", "error"]) {
      if (this.random() < 0.4) message[key] = this.value(2);
    }
    // No link to anywhere real: a fuzzed link must not make a node dial out of the test.
    if (typeof message.url === "string") message.url = "ws://127.0.0.1:9";
    return message;
  }

  /** Bytes that are almost a message: a real encoding, flipped, cut or extended. */
  mutate(bytes: Uint8Array): Uint8Array {
    const out = new Uint8Array(bytes);
    switch (this.int(3)) {
      case 0:
        for (let i = 1 + this.int(4); i > 0 && out.length > 0; i--) out[this.int(out.length)] = this.int(256);
        return out;
      case 1:
        return out.subarray(0, this.int(out.length + 1));
      default: {
        const tail = new Uint8Array(this.int(32)).map(() => this.int(256));
        const joined = new Uint8Array(out.length + tail.length);
        joined.set(out);
        joined.set(tail, out.length);
        return joined;
      }
    }
  }

  /** One frame for a node: any channel, from structured to plain garbage. */
  frame(): Uint8Array {
    switch (this.int(6)) {
      case 0:
        return new Uint8Array(this.int(200)).map(() => this.int(256));
      case 1:
      case 2:
        return encodeGridFrame(Channel.Request, encodeMessage(this.request()));
      case 3:
        return encodeGridFrame(Channel.Request, this.mutate(encodeMessage(this.request())));
      case 4:
        return encodeGridFrame(Channel.Control, this.mutate(encodeMessage(this.control())));
      default:
        return encodeGridFrame(this.pick([Channel.Control, Channel.Reply, Channel.Peer]), encodeMessage(this.value()));
    }
  }
}

/** A reply that breaks the rule: an error without a tsyft code, or a stack overflow. */
function untyped(received: Received): string | undefined {
  if (received.channel !== "reply" || received.reply.ok) return undefined;
  const { code, message } = received.reply.error;
  if (!code || !code.startsWith("TSYFT_ERR_") || /call stack/i.test(message))
    return `${code || "(no code)"}: ${message}`;
  return undefined;
}

/** How long a session's last ping may wait: a fuzzed command may hold its own session up to the nodes' timeout. */
const SESSION_DRAIN_MS = 40_000;

/**
 * Sends `count` fuzzed frames to `member`, 25 per socket (each socket is a
 * session of its own, and a session runs its requests in order: a fuzzed
 * protocol command that waits for peers holds up only its own session).
 * After each 25, a ping on a fresh socket must be answered: the node keeps
 * serving others. At the end every fuzzed session gets a last ping, and all
 * the replies they received are checked. Returns the rule-breaking answers.
 */
async function fuzzNode(
  member: Member,
  open: () => Promise<RawNodeSocket>,
  fuzz: Fuzz,
  count: number,
): Promise<string[]> {
  const violations: string[] = [];
  const sessions: RawNodeSocket[] = [];
  let socket = await open();
  sessions.push(socket);
  for (let i = 0; i < count; i++) {
    if (socket.closed) sessions.push((socket = await open()));
    socket.send(fuzz.frame());
    if (i % 25 === 24 || i === count - 1) {
      const probe = await open();
      const answered = await probe.call({ t: "ping" }, 15_000);
      probe.close();
      if (!answered) violations.push(`${member.id}: no answer to another session's ping after input ${i}`);
      if (i < count - 1) sessions.push((socket = await open()));
    }
  }
  // A session's last ping is answered after everything it sent before.
  await Promise.all(
    sessions.map(async (session) => {
      if (session.closed) return;
      const rid = 3_000_000 + drainRids++;
      session.request({ t: "ping", rid });
      await session.next((r) => r.channel === "reply" && r.reply.rid === rid, SESSION_DRAIN_MS);
    }),
  );
  for (const session of sessions) {
    for (const r of session.received.splice(0)) {
      const bad = untyped(r);
      if (bad) violations.push(`${member.id}: ${bad}`);
    }
    session.close();
  }
  expect(isAlive(member.pid!), `${member.id} is alive`).toBe(true);
  return violations;
}

let drainRids = 0;

// The peer-link fuzz first, then the request fuzz; after both, sweepAfterAttacks checks that nothing the fuzz sent
// (clear, release, store-plan, stores over the toy's ids) touched the toy or let its secrets out.
/** A provider request's meta as mallory might send it: random, or the shape of a real request with random fields. */
function peerMeta(fuzz: Fuzz, i: number): unknown {
  const roll = fuzz.random();
  if (roll < 0.4) return fuzz.value();
  const holders = fuzz.random() < 0.5 ? ["bob", "charlie"] : fuzz.value(1);
  if (roll < 0.7) return { type: fuzz.pick(["key", "material", "materials"]), holders, spec: fuzz.value(2) };
  // A stream (a holder's prefetch of a run's material): items with real-looking tags and random specs.
  const items = Array.from({ length: fuzz.int(4) }, (_, k) => ({
    tag: fuzz.random() < 0.7 ? `s${i}/${k}` : fuzz.string(),
    spec: fuzz.random() < 0.5 ? { kind: "beaver", op: { kind: "mul" }, xShape: [2], yShape: [2] } : fuzz.value(2),
  }));
  return { provider: "trusted-dealer", type: "stream", holders, items: fuzz.random() < 0.8 ? items : fuzz.value(1) };
}

describe("fuzzing the nodes' peer links", () => {
  it("random peer frames from an enrolled node: the holders and the provider keep serving, answers stay right", async () => {
    const fuzz = new Fuzz(prng(SEED + 1));
    for (const id of ["bob", "dan"] as const) {
      const { socket } = await malloryLink(g, g.nodes[id]);
      for (let i = 0; i < 200; i++) {
        socket.peer({
          kind: fuzz.pick(["data", "request", "reply", "abort"] as const),
          from: "mallory",
          tag: fuzz.pick([`f${i}/0`, "", fuzz.string(), `${fuzz.string()}/key`]),
          tensors: fuzz.random() < 0.5 ? [] : [new RingTensor(new BigInt64Array(8), [8])],
          meta: peerMeta(fuzz, i),
        });
      }
      socket.close();
    }
    await expectAnswerKept(g);
  }, 300_000);
});

describe("fuzzing the nodes", () => {
  it("random and mutated requests, control messages and frames: typed errors only; every node keeps serving", async () => {
    // Each node and kind of socket its own seeded stream, all at once: a session's last ping may wait for the
    // nodes' timeout, and waiting for six of them one after another would take minutes.
    const runs = (["alice", "bob", "dan"] as const).flatMap((id, k) => {
      const member = g.nodes[id];
      return [
        fuzzNode(member, () => anonymousSocket(member), new Fuzz(prng(SEED + 10 * k)), 150),
        fuzzNode(member, () => RawNodeSocket.open(member.url), new Fuzz(prng(SEED + 10 * k + 5)), 60),
      ];
    });
    const violations = (await Promise.all(runs)).flat();
    expect(violations.slice(0, 20), `seed ${SEED}: ${violations.length} untyped answers`).toEqual([]);
  }, 1_200_000);
});

sweepAfterAttacks(() => g);
