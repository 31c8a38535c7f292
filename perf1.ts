import * as tf from "@tensorflow/tfjs";
import * as sy from "./src";
(async () => {
  await sy.useWasmBackend(tf);
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [784], units: 500, activation: "relu" }), tf.layers.dense({ units: 10 })] });
  const plan = sy.Plan.fromModel(model, { id: "mlp" });
  await plan.build();
  plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  for (const B of [1, 16, 64]) {
    const x = tf.randomUniform([B, 784]);
    const labels = tf.randomUniform([B], 0, 10, "int32").cast("float32");
    for (let rep = 0; rep < 3; rep++) {
      const t0 = performance.now();
      const logits = plan.run(x.fixPrecision().share(bob, charlie, { cryptoProvider: dan })) as sy.FixedPrecisionTensor;
      const correct = logits.argmax(1).eq(labels.fixPrecision().share(bob, charlie, { cryptoProvider: dan })).sum();
      const c = (await correct.get()).floatPrecision().dataSync()[0];
      const ms = performance.now() - t0;
      if (rep === 2) console.log(`B=${B}: ${ms.toFixed(1)} ms total, ${(ms / B).toFixed(2)} ms/image, correct=${c}, plain=${tf.sum(tf.equal((model.predict(x) as tf.Tensor).argMax(1).cast("float32"), labels)).dataSync()[0]}`);
    }
  }
  // CNN of the skin cancer tutorial
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
    const out = await (cp.run(xi.fixPrecision().share(bob, charlie, { cryptoProvider: dan })) as sy.FixedPrecisionTensor).get();
    console.log("skin cnn batch1 ms", (performance.now() - t0).toFixed(0), "diff", tf.max(tf.abs(out.floatPrecision().sub(cnn.predict(xi) as tf.Tensor))).dataSync()[0]);
  }
  const t0 = performance.now(); await cp.preprocess(1, [1, 32, 32, 3]); const t1 = performance.now();
  await (cp.run(xi.fixPrecision().share(bob, charlie, { cryptoProvider: dan })) as sy.FixedPrecisionTensor).get();
  console.log("offline", (t1 - t0).toFixed(0), "online", (performance.now() - t1).toFixed(0));
})().catch((e) => { console.error("FAILED", e); process.exit(1); });
