import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { startPublicGrid, type PublicGridFixture } from "./helpers";

/** The linear toy of the PyGrid tutorial: fc1 = [2, 4], bias = [1000]; [5, 3] gives [1022]. */
class Net extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

let fixture: PublicGridFixture;
let hook: sy.SyHook;
let network: sy.PublicGridNetwork;

beforeAll(async () => {
  fixture = await startPublicGrid({ inProcess: true });
  ({ hook, network } = fixture);
});

afterAll(async () => {
  await fixture?.close();
});

describe("PublicGridNetwork on a local grid", () => {
  it("serves the linear toy with mpc and answers [1022] for [5, 3]", async () => {
    const model = new Net({ id: "convnet" });
    await model.build(tf.tensor([1.0, 2]));
    const info = await network.serveModel(model, { id: "convnet", allowRemoteInference: true, mpc: true });
    expect(info.mpc).toBe(true);
    expect(info.nodes.holders).toHaveLength(2);
    expect(info.nodes.provider).toBeDefined();
    expect(new Set([info.nodes.host, ...info.nodes.holders, info.nodes.provider]).size).toBe(4);
    const y = await network.runRemoteInference("convnet", tf.tensor([5, 3]), { mpc: true });
    expect(y.dataSync()[0]).toBeCloseTo(1022, 2);
    // Again, and after dealing ahead.
    await network.preprocess("convnet", 2, [2]);
    const y2 = await network.runRemoteInference("convnet", tf.tensor([1.5, -2.25]), { mpc: true });
    expect(y2.dataSync()[0]).toBeCloseTo(994, 2);
  });

  it("the plan host keeps the IR and share ids, never the weights", async () => {
    const info = (await network.models()).find((m) => m.id === "convnet")!;
    const host = await network.node(info.nodes.host);
    const bytes = await host.fetchPlanBytes("convnet", { copy: true });
    const enc = (v: number) => Buffer.from(new BigInt64Array([BigInt(Math.round(v * 2 ** 16))]).buffer);
    for (const w of [2, 4, 1000]) expect(Buffer.from(bytes).indexOf(enc(w))).toBe(-1);
  });

  it("serves a plaintext model on one node and runs it there", async () => {
    const model = new Net({ id: "plain-toy" });
    await model.build(tf.tensor([1.0, 2]));
    const info = await network.serveModel(model, { id: "plain-toy", allowRemoteInference: true, mpc: false });
    expect(info.nodes.holders).toEqual([]);
    const y = await network.runRemoteInference("plain-toy", tf.tensor([5, 3]));
    expect(Array.from(y.dataSync())).toEqual([1022]);
  });

  it("lists, searches and deletes models; refuses what the owner did not allow", async () => {
    const model = new Net({ id: "private-toy" });
    await model.build(tf.tensor([1.0, 2]));
    await network.serveModel(model, { id: "private-toy", mpc: true, description: "no remote inference" });
    await expect(network.runRemoteInference("private-toy", tf.tensor([5, 3]), { mpc: true })).rejects.toMatchObject({
      code: "TSYFT_ERR_AUTH",
    });
    await expect(network.runRemoteInference("convnet", tf.tensor([5, 3]), { mpc: false })).rejects.toThrow(
      /served with mpc/,
    );
    await expect(network.download("convnet")).rejects.toMatchObject({ code: "TSYFT_ERR_AUTH" });
    expect((await network.models()).map((m) => m.id).sort()).toEqual(["convnet", "plain-toy", "private-toy"]);
    expect((await network.search("remote")).map((m) => m.id)).toEqual(["private-toy"]);
    expect(await network.deleteModel("private-toy")).toBe(true);
    await expect(network.runRemoteInference("private-toy", tf.tensor([5, 3]), { mpc: true })).rejects.toThrow(
      /No model "private-toy"/,
    );
    await expect(network.serveModel(model, { id: "convnet", mpc: true })).rejects.toThrow(/already served/);
  });

  it("runs a known model early, but answers only once the gateway confirms it: a deleted model is refused", async () => {
    const model = new Net({ id: "short-lived" });
    await model.build(tf.tensor([1.0, 2]));
    const served = await network.serveModel(model, { id: "short-lived", allowRemoteInference: true, mpc: true });
    const user = new sy.PublicGridNetwork(hook, fixture.grid.gateway.url, { token: null });
    try {
      expect(
        (await user.runRemoteInference("short-lived", tf.tensor([5, 3]), { mpc: true })).dataSync()[0],
      ).toBeCloseTo(1022, 2);
      // Deleted at the gateway only: the nodes would still answer the remembered placement.
      await network.gateway.deleteModel("short-lived", { ownerToken: served.ownerToken });
      await expect(user.runRemoteInference("short-lived", tf.tensor([5, 3]), { mpc: true })).rejects.toMatchObject({
        code: "TSYFT_ERR_OBJECT_NOT_FOUND",
      });
    } finally {
      await user.close();
    }
  });

  it("says that mpc needs four nodes when the grid has fewer", async () => {
    const small = await sy.grid.startLocalGrid({ ports: "random", inProcess: true, tf, nodes: ["bob", "charlie"] });
    try {
      const net = new sy.PublicGridNetwork(hook, small.gateway.url);
      const model = new Net({ id: "toy-small" });
      await model.build(tf.tensor([1.0, 2]));
      await expect(net.serveModel(model, { mpc: true })).rejects.toThrow(
        /needs 4 online nodes .* has 2 \(bob, charlie\)/,
      );
      await net.close();
    } finally {
      await small.stop();
    }
  });
});
