// Attacks whose effect is only visible inside a node, on an in-process grid
// (the same gateway, nodes and toy as the other hostile tests, in this
// process): a peer frame that names another node as its sender, frames for
// tags nobody waits for piling up in a mailbox, and query shares left behind.
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import * as grid from "../../../src/grid";
import { RingTensor } from "../../../src/ring";
import { publicGrid } from "./api";
import { RawNodeSocket } from "./attacker";
import {
  ANSWER,
  TOY,
  expectAnswerKept,
  malloryLink,
  sweepAfterAttacks,
  useToyGrid,
  type Member,
  type ToyGrid,
} from "./toy-grid";

let g: ToyGrid;
/**
 * The mailbox limits of this file's nodes: the defaults (256 MB per peer, 60 s) would take all 200 frames of the
 * mailbox attack and hold them a minute; smaller settings show the same bounds at work within the test.
 */
const MAILBOX = { mailboxMaxBytes: 32 * 1024 * 1024, mailboxMaxAgeMs: 5_000 };
useToyGrid((grid) => (g = grid), { inProcess: true, config: MAILBOX });

function nodeOf(member: Member): grid.GridNode {
  if (!member.node) throw new Error(`${member.id} is not in this process`);
  return member.node;
}

/** An enrolled node's link (see malloryLink), welcomed. */
async function mallory(member: Member): Promise<RawNodeSocket> {
  const { socket, outcome } = await malloryLink(g, member);
  expect(outcome.kind, "an enrolled node's hello").toBe("welcome");
  return socket;
}

const settle = (ms = 500) => new Promise((r) => setTimeout(r, ms));

describe("a peer frame's sender is its link", () => {
  it("an enrolled node that writes bob's id in a dealer request cannot make dan answer bob", async () => {
    const bob = nodeOf(g.nodes.bob);
    const buffered = bob.worker.mailbox.pending.buffered;
    const fromDan = bob.peers.stats().dan?.framesIn ?? 0;
    const socket = await mallory(g.nodes.dan);
    socket.peer({ kind: "request", from: "bob", tag: "spoof-0/key", tensors: [], meta: { type: "key" } });
    // A request under mallory's own name after it: once it is answered, dan has handled the spoof too.
    socket.peer({
      kind: "request",
      from: "mallory",
      tag: "own-0/key",
      tensors: [],
      meta: { type: "key", holders: ["bob", "mallory"] },
    });
    await socket.next((r) => r.channel === "peer", 10_000);
    await settle();
    expect((bob.peers.stats().dan?.framesIn ?? 0) - fromDan, "frames dan sent bob meanwhile").toBe(0);
    expect(bob.worker.mailbox.pending.buffered, "frames waiting in bob's mailbox").toBe(buffered);
    await expectAnswerKept(g);
  });
});

describe("unknown-tag mailbox", () => {
  it("200 x 1 MB frames for tags nobody waits for: bounded per peer, and gone once the sender leaves", async () => {
    const bob = nodeOf(g.nodes.bob);
    const before = bob.worker.mailbox.pending.buffered;
    const socket = await mallory(g.nodes.bob);
    const megabyte = new RingTensor(new BigInt64Array(131_072), [131_072]);
    for (let i = 0; i < 200; i++) {
      socket.peer({ kind: "data", from: "mallory", tag: `junk-${i}/0`, tensors: [megabyte] });
    }
    // Wait until bob has taken all 200 in (or closed the link on the way).
    const deadline = Date.now() + 60_000;
    while ((bob.peers.stats().mallory?.framesIn ?? 0) < 200 && !socket.closed && Date.now() < deadline)
      await settle(50);
    const held = bob.worker.mailbox.pending.buffered - before;
    socket.close();
    const leftDeadline = Date.now() + 90_000;
    while (bob.worker.mailbox.pending.buffered > before && Date.now() < leftDeadline) await settle(200);
    expect(held, "1 MB frames bob held for mallory at once").toBeLessThan(200);
    expect(held * 1024 * 1024, "bytes bob held for mallory, within mailboxMaxBytes").toBeLessThanOrEqual(
      MAILBOX.mailboxMaxBytes,
    );
    expect(bob.worker.mailbox.pending.buffered - before, "frames bob still holds after mallory left").toBe(0);
    await expectAnswerKept(g);
  }, 240_000);
});

describe("query shares are released", () => {
  it("the holders' object counts are the same after 20 queries, and after a query that failed", async () => {
    const holders = [nodeOf(g.nodes.bob), nodeOf(g.nodes.charlie)];
    const user = publicGrid(g.hook, g.gateway.url);
    try {
      const query = async (input: number[]) => {
        const y = await user.runRemoteInference(TOY, tf.tensor(input), { mpc: true });
        return y.dataSync()[0]!;
      };
      expect(await query([5, 3])).toBeCloseTo(ANSWER, 2); // the plan is fetched, the links are open
      const counts = () => holders.map((n) => n.worker.objects.count);
      await settle(); // the first query's releases reach the holders after its answer
      const before = counts();
      for (let i = 0; i < 20; i++) expect(await query([5, 3])).toBeCloseTo(ANSWER, 2);
      await settle();
      expect(counts(), "objects on bob and charlie after 20 queries").toEqual(before);
      // A query that fails on the holders (the input has the wrong shape) must not leave its shares either.
      await expect(query([5, 3, 1])).rejects.toThrow();
      await settle();
      expect(counts(), "objects on bob and charlie after a failed query").toEqual(before);
    } finally {
      await user.close();
    }
  });
});

sweepAfterAttacks(() => g);
