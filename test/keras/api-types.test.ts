// The public types of Keras serving, checked by the compiler (`npm run typecheck`, part of `npm test`): the
// module augmentation gives tf.LayersModel both `share` overloads, `serve` and `stop`, so the declarations
// cannot go stale. At run time, the same calls are rejected for what they are (no cluster, no share).
import * as tf from "@tensorflow/tfjs";
import { describe, expect, expectTypeOf, it } from "vitest";
import * as sy from "../../src";

describe("Keras serving's public types", () => {
  it("tf.LayersModel has share(cluster), share(workers...), serve and stop, typed", async () => {
    sy.KerasHook(tf);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] });
    const cluster = new sy.TFECluster(
      new sy.TFEWorker({ host: "localhost:4000" }),
      new sy.TFEWorker({ host: "localhost:4001" }),
      new sy.TFEWorker({ host: "localhost:4002", autoManaged: false }),
    );
    const hook = sy.hook(tf);
    const [alice, bob, james] = ["t-alice", "t-bob", "t-james"].map((id) => new sy.VirtualWorker(hook, { id }));
    const client = new sy.TFEWorker();
    // Compile-time only: never called, so no promise is left to reject.
    const typesOnly = () => {
      expectTypeOf(model.share(cluster, { name: "m" })).toEqualTypeOf<Promise<sy.keras.SharedKerasModel>>();
      expectTypeOf(model.serve({ numRequests: 3 })).toEqualTypeOf<Promise<sy.keras.ServingReport>>();
      expectTypeOf(model.stop()).toEqualTypeOf<Promise<void>>();
      expectTypeOf(model.share(alice!, bob!, { cryptoProvider: james! })).toEqualTypeOf<sy.Plan>();
      expectTypeOf(client.queryModel(tf.zeros([1, 2]))).toEqualTypeOf<Promise<tf.Tensor>>();
    };
    expectTypeOf(typesOnly).toBeFunction();
    // Not started: share refuses with a typed error that says what to do.
    await expect(model.share(cluster)).rejects.toThrow("call await cluster.start() first");
    await expect(client.queryModel(tf.zeros([1, 2]))).rejects.toThrow("connectToModel");
  });
});
