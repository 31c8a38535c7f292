// A served model's policy, enforced by the nodes over real sockets with real credentials: a local grid
// (its admin token links the nodes), a model owner with a user token, another user (eve) and anonymous
// clients. Plans fetched straight from their host follow allowRemoteInference / allowDownload and
// fetch-once (copies included); the IR-swap attack on the holders is refused; a non-mpc model's weights
// never reach a querying client's socket; queries leave the nodes' object counts flat; an anonymous
// client may only query.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import * as sy from "../../src";
import { planFromBytes, type SerializedPlan } from "../../src/plans/serialize";

/** The linear toy: fc1 and bias as given; [5, 3] gives 5 fc1[0] + 3 fc1[1] + bias. */
class Toy extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

async function toy(id: string, fc1: number[], bias: number): Promise<Toy> {
  const model = new Toy({ id });
  model.fc1 = tf.tensor(fc1);
  model.bias = tf.tensor([bias]);
  await model.build(tf.tensor([1, 2]));
  return model;
}

/** Weights of the plaintext model: distinctive float32 values to look for on the wire. */
const PLAIN_WEIGHTS = [2.5, 4.5, 999.5];

let grid: sy.grid.LocalGrid;
let ownerToken: string;
let owner: sy.PublicGridNetwork;
const networks: sy.PublicGridNetwork[] = [];
const clients: sy.grid.WebsocketGridClient[] = [];
/** The served mpc toy as its owner sees it. */
let toyPlan: SerializedPlan;
let nodes: { host: string; holders: string[]; provider?: string };
/** The owner credential serveModel gave for "private". */
let privateOwnerToken: string;

/** A network of its own hook (the hook resolves the plan's workers by id, so principals must not share one). */
function network(token: string | null): sy.PublicGridNetwork {
  const net = new sy.PublicGridNetwork(sy.hook(tf), grid.gateway.url, { token });
  networks.push(net);
  return net;
}

/** A client of node `id` signed in with `token` (null: anonymous). */
async function client(id: string, token: string | null): Promise<sy.grid.WebsocketGridClient> {
  const node = grid.node(id);
  const c = new sy.grid.WebsocketGridClient(sy.hook(tf), node.url, { id, token, gridKey: grid.gridKey });
  clients.push(c);
  return c.connect();
}

const userToken = (subject: string) => sy.grid.issueToken(grid.adminToken, { subject });

async function objectCounts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const n of grid.nodes)
    out[n.id] = ((await (await fetch(`${n.url.replace(/^ws/, "http")}/health`)).json()) as sy.grid.NodeHealth).objects;
  return out;
}

async function codeOf(work: Promise<unknown>): Promise<string | undefined> {
  try {
    await work;
    return undefined;
  } catch (error) {
    return (error as sy.TsyftError).code;
  }
}

beforeAll(async () => {
  await tf.setBackend("cpu");
  grid = await sy.grid.startLocalGrid({ ports: "random", inProcess: true, tf });
  // Linking nodes is the admin's: the local grid's handle links them once.
  await sy.grid.connectAllNodes(grid.clients(sy.hook(tf)));
  ownerToken = userToken("ada");
  owner = network(ownerToken);
  const served = await owner.serveModel(await toy("toy", [2, 4], 1000), {
    id: "toy",
    mpc: true,
    allowRemoteInference: true,
  });
  nodes = served.nodes;
  privateOwnerToken = (await owner.serveModel(await toy("private", [3, 5], -7), { id: "private", mpc: true }))
    .ownerToken;
  await owner.serveModel(await toy("plain", PLAIN_WEIGHTS.slice(0, 2), PLAIN_WEIGHTS[2]!), {
    id: "plain",
    allowRemoteInference: true,
  });
  await owner.serveModel(await toy("once", [1, 2], 3), { id: "once", allowDownload: true });
  toyPlan = planFromBytes(await (await owner.node(nodes.host)).fetchPlanBytes("toy", { copy: true }));
});

afterAll(async () => {
  for (const c of clients) await c.close();
  for (const n of networks) await n.close();
  await grid?.stop();
});

describe("the plan's host enforces its owner's policy", () => {
  it("a model served without remote inference or download: its plan fetched directly is refused to others", async () => {
    for (const token of [null, userToken("eve")]) {
      const host = await client(nodes.host, token);
      for (const copy of [true, false])
        expect(await codeOf(host.fetchPlanBytes("private", { copy })), `copy ${copy}`).toBe(sy.ErrorCode.AUTH);
    }
    const asOwner = await client(nodes.host, ownerToken);
    expect(planFromBytes(await asOwner.fetchPlanBytes("private", { copy: true })).id).toBe("private");
  });

  it("fetch-once holds against copy: true from a non-owner", async () => {
    const eve = await client(nodes.host, userToken("eve"));
    expect(await codeOf(eve.fetchPlanBytes("once", { copy: true }))).toBe(sy.ErrorCode.AUTH);
    expect(planFromBytes(await eve.fetchPlanBytes("once", { copy: false })).id).toBe("once");
    expect(await codeOf(eve.fetchPlanBytes("once", { copy: false }))).toBe(sy.ErrorCode.PLAN_ALREADY_FETCHED);
    expect(await codeOf(eve.fetchPlanBytes("once", { copy: true }))).toBe(sy.ErrorCode.AUTH);
    const anonymous = await client(nodes.host, null);
    expect(await codeOf(anonymous.fetchPlanBytes("once", { copy: true }))).toBe(sy.ErrorCode.AUTH);
    expect(planFromBytes(await (await owner.node(nodes.host)).fetchPlanBytes("once", { copy: true })).id).toBe("once");
  });
});

describe("the weights' holders", () => {
  /** `token`'s run of the toy's plan with its IR swapped for `return state[0]`, on the real share ids. */
  async function swappedRun(token: string | null): Promise<unknown> {
    const net = network(token);
    const [bob, charlie, dan] = await Promise.all([...nodes.holders, nodes.provider!].map((id) => net.node(id)));
    const swapped = sy.Plan.deserialize(
      { ...toyPlan, ir: { ...toyPlan.ir, outputs: [toyPlan.ir.inputs.length] } },
      net.hook,
    );
    const x = tf.tensor([5, 3]).fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    return ((swapped.run(x) as sy.FixedPrecisionTensor).get() as Promise<sy.FixedPrecisionTensor>).then((y) =>
      Array.from(y.floatPrecision().dataSync()),
    );
  }

  it("refuse the IR-swap attack (return state[0] over the weights) from an anonymous client and a user", async () => {
    await expect(swappedRun(null)).rejects.toThrow(/Anonymous clients may only query/);
    await expect(swappedRun(userToken("eve"))).rejects.toThrow(/holds no object/);
    // The real IR still answers everyone.
    const y = await network(null).runRemoteInference("toy", tf.tensor([5, 3]), { mpc: true });
    expect(y.dataSync()[0]).toBeCloseTo(1022, 2);
  });

  it("answer a fetch of the weight ids by anyone but their owner like a missing id", async () => {
    const weightIds = toyPlan.state.flatMap((s) => (s.kind === "shared" ? [s.id] : []));
    expect(weightIds).toHaveLength(2);
    for (const token of [null, userToken("eve")]) {
      const holder = await client(nodes.holders[0]!, token);
      for (const id of weightIds)
        expect(await codeOf(holder.fetch(id, { remove: false }))).toBe(sy.ErrorCode.OBJECT_NOT_FOUND);
    }
  });
});

describe("queries", () => {
  it("a non-mpc model runs on its host: no frame to the querying client carries its weights", async () => {
    const received: Buffer[] = [];
    const emit = WebSocket.prototype.emit;
    // Observe every message client sockets of this process receive (the real sockets keep working).
    const spy = vi.spyOn(WebSocket.prototype, "emit").mockImplementation(function (this: WebSocket, event, ...args) {
      if (event === "message" && this.url) received.push(Buffer.from(args[0] as Buffer));
      return emit.call(this, event, ...args);
    });
    try {
      const y = await network(null).runRemoteInference("plain", tf.tensor([5, 3]));
      expect(y.dataSync()[0]).toBeCloseTo(2.5 * 5 + 4.5 * 3 + 999.5, 3);
    } finally {
      spy.mockRestore();
    }
    expect(received.length).toBeGreaterThan(0);
    const weights = PLAIN_WEIGHTS.map((w) => Buffer.from(new Float32Array([w]).buffer));
    const carrying = received.filter((frame) => weights.some((w) => frame.includes(w)));
    expect(carrying).toEqual([]);
  });

  it("leave every node's object count exactly flat, answered or failed (300 queries)", async () => {
    const user = network(null);
    const query = async (input: number[], mpc: boolean) =>
      (await user.runRemoteInference(mpc ? "toy" : "plain", tf.tensor(input), { mpc })).dataSync()[0]!;
    expect(await query([5, 3], true)).toBeCloseTo(1022, 2); // the plan copy is fetched, the links are up
    const before = await objectCounts();
    for (let i = 0; i < 200; i++) expect(await query([5, 3], true)).toBeCloseTo(1022, 2);
    for (let i = 0; i < 100; i++) expect(await query([5, 3], false)).toBeCloseTo(1025.5, 3);
    await expect(query([5, 3, 1], true)).rejects.toThrow();
    await expect(query([5, 3, 1], false)).rejects.toThrow();
    // Releases are pipelined: a round trip on each node's session makes sure they ran.
    await Promise.all(grid.nodes.map(async (n) => (await user.node(n.id)).ping()));
    expect(await objectCounts()).toEqual(before);
  }, 240_000);
});

describe("anonymous clients", () => {
  it("get TSYFT_ERR_AUTH for anything but a query", async () => {
    const holder = await client(nodes.holders[0]!, null);
    const host = await client(nodes.host, null);
    const attempts = [
      holder.listObjects(),
      holder.clearObjects(),
      holder.grant({ irHash: "0".repeat(64), stateIds: [], anyone: true }),
      host.storePlan("mine", (await toy("mine", [1, 1], 1)).toBytes()),
      host.fetchPlanBytes("private", { copy: true }),
    ];
    for (const attempt of attempts) expect(await codeOf(attempt)).toBe(sy.ErrorCode.AUTH);
    // A user may list (its own objects: none for a new one, whatever others hold there).
    const user = await client(nodes.holders[0]!, userToken("frank"));
    expect(await user.listObjects()).toEqual([]);
  });
});

describe("a plan shared and sent by hand (PySyft's share(...).send(alice))", () => {
  it("sent with allowRemoteInference, its holders grant its IR: another user fetches a copy and runs it on shares", async () => {
    const hook = sy.hook(tf);
    const token = userToken("ada");
    const [alice, bob, charlie, dan] = await Promise.all(
      ["alice", "bob", "charlie", "dan"].map(async (id) => {
        const c = new sy.grid.WebsocketGridClient(hook, grid.node(id).url, { id, token, gridKey: grid.gridKey });
        clients.push(c);
        return c.connect();
      }),
    );
    const model = await toy("by-hand", [2, 4], 1000);
    await model
      .fixPrecision()
      .share(bob!, charlie!, { cryptoProvider: dan! })
      .send(alice!, { policy: { allowRemoteInference: true, allowDownload: false } })
      .ready();
    // A fresh hook and clients: nothing of the owner's state.
    const eveHook = sy.hook(tf);
    const eve = await Promise.all(
      ["alice", "bob", "charlie", "dan"].map(async (id) => {
        const c = new sy.grid.WebsocketGridClient(eveHook, grid.node(id).url, {
          id,
          token: userToken("eve"),
          gridKey: grid.gridKey,
        });
        clients.push(c);
        return c.connect();
      }),
    );
    const fetched = await eveHook.localWorker.fetchPlan("by-hand", eve[0]!, { copy: true });
    const x = tf.tensor([5, 3]).fixPrecision().share(eve[1]!, eve[2]!, { cryptoProvider: eve[3]! });
    const y = await (fetched(x) as sy.FixedPrecisionTensor).get();
    expect(Array.from(y.floatPrecision().dataSync())).toEqual([1022]);
  });
});

describe("deleteModel", () => {
  it("frees the model's plan and shares on every node with the owner's token", async () => {
    const before = await objectCounts();
    const deleted = await owner.deleteModel("private", { ownerToken: privateOwnerToken });
    expect(deleted).toBe(true);
    await Promise.all(grid.nodes.map(async (n) => (await owner.node(n.id)).ping()));
    const after = await objectCounts();
    expect(after[nodes.host]).toBe(before[nodes.host]! - 1);
    // Its two weight shares; a model served without remote inference has no grant (its owner needs none).
    for (const h of nodes.holders) expect(after[h]).toBe(before[h]! - 2);
  });
});
