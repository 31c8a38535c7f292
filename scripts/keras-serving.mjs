#!/usr/bin/env node
/**
 * Syft-Keras secure serving end to end, with nothing but tsyft's public API
 * (PySyft Parts 13b and 13c in one script): a TFECluster of three server
 * processes on free ports, 13b's model shared on it and served for three
 * requests in the background, a client in another process (this script with
 * --client) that classifies three images privately and is refused a fourth,
 * then stop. Exits 0 when every private prediction equals plaintext's.
 *
 *   npm run build && node scripts/keras-serving.mjs
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import * as sy from "tsyft";

const INPUT_SHAPE = [1, 28, 28, 1];
const OUTPUT_SHAPE = [1, 10];
const IMAGES = 4;

/** The same four images in both processes (seeded). */
const image = (i) => tf.randomUniform(INPUT_SHAPE, 0, 1, "float32", 100 + i);

/** 13b's model: 13a's CNN with logits, batch input [1, 28, 28, 1]; seeded random weights. */
function model13b() {
  const conv = (filters, seed, extra = {}) =>
    tf.layers.conv2d({ filters, kernelSize: 3, kernelInitializer: tf.initializers.glorotUniform({ seed }), ...extra });
  return tf.sequential({
    layers: [
      conv(10, 1, { batchInputShape: INPUT_SHAPE }),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      conv(32, 2),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      conv(64, 3),
      tf.layers.averagePooling2d({ poolSize: 2 }),
      tf.layers.reLU(),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10, name: "logit", kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
}

async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const argmax = (values) => values.indexOf(Math.max(...values));

/** The client (13c): three private predictions and a fourth query, printed as one JSON line. */
async function client(hosts) {
  sy.KerasHook(tf);
  const cluster = new sy.TFECluster(...hosts.map((host) => new sy.TFEWorker({ host, autoManaged: false })));
  const me = new sy.TFEWorker();
  await me.connectToModel(INPUT_SHAPE, OUTPUT_SHAPE, cluster, { timeoutMs: 60_000 });
  const results = [];
  for (let i = 0; i < IMAGES; i++) {
    try {
      results.push({ logits: Array.from((await me.queryModel(image(i))).dataSync()) });
    } catch (error) {
      results.push({ error: { code: error.code, message: error.message } });
    }
  }
  await me.disconnect();
  console.log(JSON.stringify(results));
}

/** Runs this script with --client in another process; resolves with what it printed. */
function clientProcess(hosts) {
  const script = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [script, "--client", JSON.stringify(hosts)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let out = "";
  child.stdout.on("data", (chunk) => (out += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 180_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const line = out.trim().split("\n").pop() ?? "";
      if (code === 0 && line.startsWith("[")) resolve(JSON.parse(line));
      else reject(new Error(`the client process exited with ${code}: ${out.slice(-2000)}`));
    });
  });
}

/** The serving side (13b), checking what the client got. */
async function serve() {
  sy.KerasHook(tf);
  const hosts = [];
  for (let i = 0; i < 3; i++) hosts.push(`localhost:${await freePort()}`);
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-keras-serving-"));
  const cluster = new sy.TFECluster(...hosts.map((host) => new sy.TFEWorker({ host })), { stateDir });
  const failures = [];
  try {
    await cluster.start();
    console.log(`cluster started: ${hosts.join(", ")}`);
    const model = model13b();
    await model.share(cluster);
    const serving = model.serve({ numRequests: 3, timeoutMs: 180_000 });
    const results = await clientProcess(hosts);
    const report = await serving;
    console.log(`serve resolved: ${JSON.stringify(report)}`);
    if (report.served !== 3) failures.push(`serve reported ${report.served} served, expected 3`);
    for (let i = 0; i < 3; i++) {
      const plain = Array.from(model.predict(image(i)).dataSync());
      const got = results[i];
      if (!got.logits) failures.push(`query ${i + 1} failed: ${got.error?.message}`);
      else {
        const diff = Math.max(...got.logits.map((v, j) => Math.abs(v - plain[j])));
        console.log(
          `image ${i + 1}: private argmax ${argmax(got.logits)}, plaintext ${argmax(plain)}, max |diff| ${diff.toExponential(2)}`,
        );
        if (argmax(got.logits) !== argmax(plain) || diff > 0.02) failures.push(`query ${i + 1} differs from plaintext`);
      }
    }
    const fourth = results[3];
    console.log(`query 4: ${fourth.error ? `${fourth.error.code}: ${fourth.error.message}` : "answered"}`);
    if (fourth.error?.code !== "TSYFT_ERR_SERVING_LIMIT")
      failures.push("the fourth query was not refused with TSYFT_ERR_SERVING_LIMIT");
    await model.stop();
  } finally {
    await cluster.stop();
    fs.rmSync(stateDir, { recursive: true, force: true });
  }
  if (failures.length > 0) throw new Error(failures.join("\n"));
  console.log("ok: three private predictions equal to plaintext's, the fourth refused, the cluster stopped");
}

const clientIndex = process.argv.indexOf("--client");
(clientIndex >= 0 ? client(JSON.parse(process.argv[clientIndex + 1])) : serve()).then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
