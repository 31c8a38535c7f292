import * as tf from "@tensorflow/tfjs";
import * as sy from "./src";
(async () => {
  await tf.setBackend("cpu");
  const cnn = tf.sequential({ layers: [
    tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 32, kernelSize: 5, activation: "relu" }),
    tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu" }),
    tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu" }),
    tf.layers.flatten(), tf.layers.dense({ units: 400, activation: "relu" }), tf.layers.dense({ units: 200, activation: "relu" }), tf.layers.dense({ units: 2 }) ] });
  cnn.compile({ optimizer: tf.train.adam(1e-4), loss: (a: tf.Tensor, b: tf.Tensor) => tf.losses.softmaxCrossEntropy(a, b) });
  const x = tf.randomNormal([64, 32, 32, 3]); const y = tf.oneHot(tf.randomUniform([64], 0, 2, "int32"), 2);
  const t0 = Date.now();
  for (let i = 0; i < 4; i++) await cnn.trainOnBatch(x, y);
  console.log("ms per 64-batch", (Date.now() - t0) / 4);
  const table = await sy.data.readSkinCancerDataset(process.env.TSYFT_DATA_DIR);
  const t1 = Date.now();
  const ds = new sy.data.Dataset(table, { size: 32 } as any);
  const b = await ds.get(0); console.log("load one", Date.now() - t1, Object.keys(b));
})();
