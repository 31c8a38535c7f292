import * as tf from "@tensorflow/tfjs";
import * as sy from "./src";
(async () => {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const cnn = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 5, activation: "relu" }),
    tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu" }),
    tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu" }),
    tf.layers.flatten(), tf.layers.dense({ units: 400, activation: "relu" }), tf.layers.dense({ units: 200, activation: "relu" }), tf.layers.dense({ units: 2 }) ] });
  const cp = sy.Plan.fromModel(cnn, { id: "skin" }); await cp.build();
  cp.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  const xi = tf.randomNormal([1, 32, 32, 3]);
  for (let rep = 0; rep < 3; rep++) {
    const t0 = performance.now();
    await (cp.run(xi.fixPrecision().share(bob, charlie, { cryptoProvider: dan })) as sy.FixedPrecisionTensor).get();
    console.log("skin cnn batch1 ms", (performance.now() - t0).toFixed(0));
  }
})();
