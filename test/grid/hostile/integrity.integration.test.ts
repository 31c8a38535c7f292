// Issue 10, "Integrity" and "Owner policy is enforced only in the client
// library": an outsider overwrites the weights' shares, replaces the plan,
// wipes a holder; fetches a private model's plan straight from its host,
// runs it on the holders, takes a plaintext model's weights, and fetches a
// fetch-once plan again as a copy. Each must be refused by the node that
// holds the data, and the answers must stay right.
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../../src";
import { planFromBytes, type SerializedPlan } from "../../../src/plans/serialize";
import type { Reply } from "../../../src/workers/messages";
import { gridClient, publicGrid, serve } from "./api";
import { codeOf, reconstructed, shareOf } from "./attacker";
import {
  ANSWER,
  TOY,
  Toy,
  anonymousSocket,
  expectPromiseKept,
  runPlanAsOutsider,
  sweepAfterAttacks,
  useToyGrid,
  userSocket,
  type Member,
  type ToyGrid,
} from "./toy-grid";

let g: ToyGrid;
useToyGrid((grid) => (g = grid));

const anonymous = (member: Member) => anonymousSocket(member);
const asUser = (member: Member, subject: string) => userSocket(g, member, subject);

/** fetch-plan `id` on `host` by an anonymous client and by another user, with and without copy. */
async function fetchPlanAsOthers(
  host: Member,
  id: string,
): Promise<Array<{ who: string; copy: boolean; reply?: Reply }>> {
  const out: Array<{ who: string; copy: boolean; reply?: Reply }> = [];
  for (const [who, socket] of [
    ["anonymous", await anonymous(host)],
    ["another user", await asUser(host, "mallory")],
  ] as const) {
    for (const copy of [true, false]) out.push({ who, copy, reply: await socket.call({ t: "fetch-plan", id, copy }) });
  }
  return out;
}

/** A toy with other weights: fc1 = [a, b], bias = [c]. */
async function toyWith(id: string, fc1: number[], bias: number): Promise<Toy> {
  const model = new Toy({ id });
  model.fc1 = tf.tensor(fc1);
  model.bias = tf.tensor([bias]);
  await model.build(tf.tensor([1, 2]));
  return model;
}

/** Served with mpc, without remote inference or download: [5, 3] would give 3*5 + 5*3 - 7 = 23. */
let privatePlan: SerializedPlan;
let privateHost: Member;
/** Served without mpc, remote inference allowed, download not: its weights are plaintext on its host. */
let plainHost: Member;
const PLAIN_WEIGHTS = [2.5, 4.5, 999.5];

beforeAll(async () => {
  await serve(g.owner, await toyWith("private", [3, 5], -7), {
    id: "private",
    mpc: true,
    allowRemoteInference: false,
    allowDownload: false,
  });
  const plain = await serve(g.owner, await toyWith("plain", [2.5, 4.5], 999.5), {
    id: "plain",
    mpc: false,
    allowRemoteInference: true,
    allowDownload: false,
  });
  await serve(g.owner, await toyWith("download-once", [1, 2], 3), {
    id: "download-once",
    mpc: false,
    allowRemoteInference: false,
    allowDownload: true,
  });
  const served = await g.owner.gateway.model("private");
  privateHost = g.nodes[served!.nodes.host as keyof ToyGrid["nodes"]];
  plainHost = g.nodes[plain.nodes.host as keyof ToyGrid["nodes"]];
  privatePlan = planFromBytes(await (await g.owner.node(privateHost.id)).fetchPlanBytes("private", { copy: true }));
});

describe("integrity of the served toy", () => {
  it("store over the weights' share ids (anonymous, another user): refused like a missing id; answers stay [1022]", async () => {
    // What the attacker stored: its own shares of 10^6 over the bias (1022 -> 1000022).
    const bias = g.plan.state.find((s) => s.kind === "shared" && s.name.includes("bias"));
    if (bias?.kind !== "shared") throw new Error("the toy's plan names its bias shares");
    const [onBob, onCharlie] = shareOf([1e6]);
    const attackers = [
      ["anonymous", anonymous],
      ["another user", (m: Member) => asUser(m, "mallory")],
    ] as const;
    for (const [who, open] of attackers) {
      for (const [holder, share] of [
        ["bob", onBob],
        ["charlie", onCharlie],
      ] as const) {
        const socket = await open(g.nodes[holder]);
        // Objects are namespaced by owner: the store lands in the attacker's own namespace, beside the owner's
        // share of the same id, which it cannot reach. Fetching that id gives the attacker back only its own share.
        socket.request({ t: "store", id: bias.id, value: { kind: "share", value: share } });
        const back = await socket.call({ t: "fetch", id: bias.id, remove: true });
        expect
          .soft(back?.ok && (back.value as { value: unknown }).value, `${who}: what a fetch of that id gives`)
          .toEqual(share);
      }
      expect((await g.query())[0], `the toy after ${who}'s stores`).toBeCloseTo(ANSWER, 2);
    }
    await expectPromiseKept(g);
  });

  it("store-plan of an attacker's plan over the toy on its host: refused (TSYFT_ERR_AUTH); answers stay [1022]", async () => {
    const fake = await toyWith(TOY, [0, 0], 42);
    const host = g.nodes[g.served.nodes.host as keyof ToyGrid["nodes"]];
    const replies: Array<[string, Reply | undefined]> = [];
    replies.push(["anonymous", await (await anonymous(host)).call({ t: "store-plan", id: TOY, plan: fake.toBytes() })]);
    replies.push([
      "another user",
      await (await asUser(host, "mallory")).call({ t: "store-plan", id: TOY, plan: fake.toBytes() }),
    ]);
    expect((await g.query())[0], "a new user's answer after the store-plan attempts").toBeCloseTo(ANSWER, 2);
    for (const [who, reply] of replies) expect.soft(codeOf(reply), `store-plan by ${who}`).toBe(sy.ErrorCode.AUTH);
    await expectPromiseKept(g);
  });

  it("store-plan over a plan sent with a token does not drop the token", async () => {
    const host = g.nodes.alice;
    const owner = gridClient(g.hook, host.url, "alice", g.ownerToken);
    try {
      await owner.connect();
      const tokened = await toyWith("tokened", [1, 1], 1);
      await owner.storePlan("tokened", tokened.toBytes(), { token: "s3cret" });
      const attacker = await asUser(host, "mallory");
      const fake = await toyWith("tokened", [0, 0], 42);
      const overwrite = await attacker.call({ t: "store-plan", id: "tokened", plan: fake.toBytes() });
      const without = await attacker.call({ t: "fetch-plan", id: "tokened", copy: true });
      expect(without?.ok, "a fetch without the token after the overwrite attempt").toBe(false);
      const plan = planFromBytes(await owner.fetchPlanBytes("tokened", { copy: true, token: "s3cret" }));
      const bias = plan.state.find((s) => s.name.includes("bias"));
      expect(bias?.kind === "plain" && Array.from(bias.data.values), "the owner's plan after the attempt").toEqual([1]);
      expect.soft(codeOf(overwrite), "store-plan over a tokened plan").toBe(sy.ErrorCode.AUTH);
    } finally {
      await owner.close();
    }
  });

  it("clear on the holders (anonymous, another user) wipes nothing of others; answers stay [1022]", async () => {
    const before = { bob: (await g.health("bob")).objects, charlie: (await g.health("charlie")).objects };
    const anon = await (await anonymous(g.nodes.bob)).call({ t: "clear" });
    // A user's clear clears its own objects (none here: a user who has stored nothing), never another's.
    const cleared = await (await asUser(g.nodes.charlie, "trudy")).call({ t: "clear" });
    expect(cleared?.ok, "a user's clear of its own (empty) namespace").toBe(true);
    const after = { bob: (await g.health("bob")).objects, charlie: (await g.health("charlie")).objects };
    expect(after, "objects on the holders after the clears").toEqual(before);
    expect((await g.query())[0]).toBeCloseTo(ANSWER, 2);
    expect.soft(codeOf(anon), "clear by an anonymous client").toBe(sy.ErrorCode.AUTH);
    await expectPromiseKept(g);
  });
});

describe("owner policy, enforced by the node that hosts the plan", () => {
  it("a model served without remote inference or download: its plan, fetched from the host directly, is refused", async () => {
    const attempts = await fetchPlanAsOthers(privateHost, "private");
    const got = attempts.filter((a) => a.reply?.ok).map((a) => `${a.who}, copy ${a.copy}`);
    for (const a of attempts)
      expect.soft(codeOf(a.reply), `fetch-plan by ${a.who}, copy ${a.copy}`).toBe(sy.ErrorCode.AUTH);
    expect(got, "plan bytes handed out").toEqual([]);
  });

  it("... and running it on its holders with its IR and share ids is refused: the attacker gets no answer", async () => {
    const { replies, taken } = await runPlanAsOutsider(g, {
      ir: privatePlan.ir,
      state: privatePlan.state.map((s) => (s.kind === "shared" ? { kind: "object", id: s.id } : undefined)),
      input: shareOf([5, 3]),
      encoding: { base: 2, precisionFractional: 16 },
    });
    expect(reconstructed(taken.bob, taken.charlie, { private: [23] }), "the private model's answer").toEqual([]);
    replies.forEach((reply, i) => expect.soft(reply?.ok, `run-plan on holder ${i}`).toBe(false));
  });

  it("a non-mpc model's plaintext weights go to nobody who asks; remote inference still answers", async () => {
    const weights = PLAIN_WEIGHTS.map((w) => Buffer.from(new Float32Array([w]).buffer));
    const leaked = (await fetchPlanAsOthers(plainHost, "plain"))
      .filter(({ reply }) => {
        const bytes = reply?.ok && reply.value instanceof Uint8Array ? Buffer.from(reply.value) : Buffer.alloc(0);
        return weights.some((w) => bytes.includes(w));
      })
      .map((a) => `${a.who}, copy ${a.copy}`);
    expect(leaked, "fetch-plan answers carrying the plaintext weights").toEqual([]);
    const user = publicGrid(g.hook, g.gateway.url);
    try {
      const y = await user.runRemoteInference("plain", tf.tensor([5, 3]));
      expect(y.dataSync()[0]).toBeCloseTo(2.5 * 5 + 4.5 * 3 + 999.5, 3);
    } finally {
      await user.close();
    }
  });

  it("fetch-plan with copy: true does not get round fetch-once", async () => {
    const host = g.nodes[(await g.owner.gateway.model("download-once"))!.nodes.host as keyof ToyGrid["nodes"]];
    const eve = await asUser(host, "eve");
    const early = await eve.call({ t: "fetch-plan", id: "download-once", copy: true });
    const first = await (await asUser(host, "mallory")).call({ t: "fetch-plan", id: "download-once", copy: false });
    expect(first?.ok, "the first fetch (fetch-once allows one)").toBe(true);
    const again = [
      await eve.call({ t: "fetch-plan", id: "download-once", copy: true }),
      await eve.call({ t: "fetch-plan", id: "download-once", copy: false }),
      await (await anonymous(host)).call({ t: "fetch-plan", id: "download-once", copy: true }),
    ];
    expect(
      again.map((r) => r?.ok),
      "fetches after the first one",
    ).toEqual([false, false, false]);
    expect.soft(early?.ok, "a copy before the first fetch, by a non-owner").toBe(false);
    expect.soft(codeOf(again[1]), "a second fetch").toBe(sy.ErrorCode.PLAN_ALREADY_FETCHED);
  });
});

describe("what the owner may do", () => {
  it("the owner's own shares and plans stay usable by the owner", async () => {
    const client = gridClient(g.hook, privateHost.url, privateHost.id, g.ownerToken);
    try {
      const bytes = await client.fetchPlanBytes("private", { copy: true });
      expect(planFromBytes(bytes).id).toBe("private");
    } finally {
      await client.close();
    }
  });
});

sweepAfterAttacks(() => g);
