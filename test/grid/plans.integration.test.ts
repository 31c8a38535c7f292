// Plans hosted on grid nodes: sent to a node, fetched back (once, or as
// copies), run on shares held by other nodes, and kept across a restart of
// the host when it has a data dir.
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { maxDiff, startNodes, tempDir, type NodesFixture } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

class Net extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

describe("plans on grid nodes", () => {
  it("the design's example: an encrypted plan hosted on alice, run on shares among bob, charlie and dan", async () => {
    const fx: NodesFixture = await startNodes();
    cleanups.push(() => fx.teardown());
    const [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map((id) =>
      fx.client(id),
    ) as grid.WebsocketGridClient[];
    const me = (fx.hook as sy.SyHook).localWorker;
    const model = new Net({ id: "convnet" });
    await model.build(tf.tensor([1.0, 2]));
    await model.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! }).send(alice!).ready();
    const fetched = await me.fetchPlan("convnet", alice!, { copy: true });
    const x = tf.tensor([1.5, -2.25]);
    const out = (
      await (
        fetched.run(x.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! })) as sy.FixedPrecisionTensor
      ).get()
    ).floatPrecision();
    expect(maxDiff(out, tf.tensor([994]))).toBeLessThan(1e-2);
    // Fetch-once over the wire: the first plain fetch works, the second fails with its code.
    await me.fetchPlan("convnet", alice!);
    await expect(me.fetchPlan("convnet", alice!)).rejects.toMatchObject({ code: sy.ErrorCode.PLAN_ALREADY_FETCHED });
  });

  it("a hosted plan survives a restart of its host on the same data dir", async () => {
    const data = tempDir("plans");
    cleanups.push(() => data.remove());
    const hook = sy.hook(tf);
    let node = await grid.startNode({ id: "alice", port: 0, tf, dataDir: data.dir });
    const port = node.port;
    const alice = await new grid.WebsocketGridClient(hook, node.url, {
      id: "alice",
      reconnect: { initialMs: 20 },
    }).connect();
    cleanups.push(async () => {
      await alice.close();
      await node.close();
    });
    const model = new Net({ id: "kept" });
    await model.build(tf.tensor([1.0, 2]));
    await model.send(alice).ready();
    await node.close();
    node = await grid.startNode({ id: "alice", port, tf, dataDir: data.dir });
    const fetched = await hook.localWorker.fetchPlan("kept", alice, { copy: true });
    expect(Array.from((fetched.run(tf.tensor([5, 3])) as tf.Tensor).dataSync())).toEqual([1022]);
  });
});
