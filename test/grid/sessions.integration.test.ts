// Two clients (two hooks, each with its own sockets, so its own sessions on every node) query the same holders
// at once, one sharing among [bob, charlie] and the other among [charlie, bob], so their commands reach the two
// holders in opposite orders: with one queue per node they waited on each other until the timeout.
import * as tf from "@tensorflow/tfjs";
import { afterEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import * as grid from "../../src/grid";
import { maxDiff, startNodes } from "./helpers";

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

describe("sessions on grid nodes", () => {
  it("two clients sending to bob and charlie in opposite orders: every product is right", async () => {
    const fx = await startNodes(["bob", "charlie", "dan"]);
    cleanups.push(() => fx.teardown());
    const hookB = sy.hook(tf);
    const others = await Promise.all(
      fx.nodes.map((n) => new grid.WebsocketGridClient(hookB, n.url, { id: n.id }).connect()),
    );
    cleanups.push(() => Promise.all(others.map((c) => c.close())));
    const [bobA, charlieA, danA] = ["bob", "charlie", "dan"].map((id) => fx.client(id));
    const [bobB, charlieB, danB] = others;
    const x = tf.tensor([1.5, -2, 3]);
    const y = tf.tensor([2, 0.5, -1]);
    const expected = tf.mul(x, y);
    const query = async (
      holders: [grid.WebsocketGridClient, grid.WebsocketGridClient],
      dealer: grid.WebsocketGridClient,
    ) => {
      const xs = x.fixPrecision().share(holders[0], holders[1], { cryptoProvider: dealer });
      const ys = y.fixPrecision().share(holders[0], holders[1], { cryptoProvider: dealer });
      return (await (xs.mul(ys) as sy.FixedPrecisionTensor).get()).floatPrecision();
    };
    await sy.withConfig({ timeoutMs: 20_000 }, async () => {
      const results = await Promise.all(
        Array.from({ length: 5 }, () => [query([bobA!, charlieA!], danA!), query([charlieB!, bobB!], danB!)]).flat(),
      );
      for (const out of results) expect(maxDiff(out, expected)).toBeLessThan(1e-3);
    });
  });
});
