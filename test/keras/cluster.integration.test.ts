// Issue 12, Syft-Keras secure serving: a TFECluster of three real node
// processes on free ports, PySyft 13b's model (random weights) shared on it,
// served for a fixed number of requests, queried by clients in processes of
// their own (fixtures/keras-client.js) and by raw clients trying what the
// servers must refuse. Every answer is compared with plaintext TF.js.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as sy from "../../src";
import { httpJson } from "../../src/grid/http-util";
import { freePorts, images, model13b, startClient, type ClientResult } from "./helpers";

/** Encrypted logits within this of plaintext: 16 fractional bits, about 2,000 accumulated terms per logit. */
const TOLERANCE = 0.02;
const INPUT_SHAPE = [1, 28, 28, 1];
const OUTPUT_SHAPE = [1, 10];

let stateDir: string;
let hosts: string[];
let cluster: sy.TFECluster;
let model: tf.Sequential;

function declare(options: { autoManaged?: boolean } = {}): sy.TFECluster {
  return new sy.TFECluster(...hosts.map((host) => new sy.TFEWorker({ host, ...options })), { stateDir });
}

const health = async (host: string) =>
  (await httpJson<{ id: string; boot: string; objects: number }>("GET", `http://${host}/health`)).body;

const plaintext = (inputs: number[][]) =>
  inputs.map((x) => Array.from((model.predict(tf.tensor(x, INPUT_SHAPE)) as tf.Tensor).dataSync()));

const argmax = (v: readonly number[]) => v.indexOf(Math.max(...v));

function expectAnswers(results: ClientResult[], expected: number[][]): void {
  results.forEach((r, i) => {
    expect(r.error, `query ${i}`).toBeUndefined();
    const diff = Math.max(...r.logits!.map((v, j) => Math.abs(v - expected[i]![j]!)));
    expect(diff, `query ${i}: max |encrypted - plaintext|`).toBeLessThan(TOLERANCE);
    expect(argmax(r.logits!), `query ${i}: argmax`).toBe(argmax(expected[i]!));
  });
}

beforeAll(async () => {
  sy.KerasHook(tf);
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-keras-"));
  hosts = (await freePorts(3)).map((p) => `localhost:${p}`);
  cluster = declare();
  await cluster.start();
  model = model13b();
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("the cluster", () => {
  it("needs exactly three server workers", () => {
    const w = () => new sy.TFEWorker({ host: "localhost:4000" });
    expect(() => new sy.TFECluster(w(), w())).toThrow("Expected three workers but 2 were given");
    expect(() => new sy.TFECluster(w(), w(), w(), w())).toThrow("Expected three workers but 4 were given");
    expect(() => declare().workers).not.toThrow();
    expect(() => new sy.TFECluster(w(), new sy.TFEWorker(), w())).toThrow(/worker 2 has no host/);
    expect(() => new sy.TFEWorker({ host: "localhost" })).toThrow(/expected host "hostname:port"/);
  });

  it("start() again reuses the running servers, from this declaration and from a new one", async () => {
    const before = await Promise.all(hosts.map(health));
    await cluster.start();
    const again = declare();
    await again.start();
    const after = await Promise.all(hosts.map(health));
    expect(after.map((h) => h.boot)).toEqual(before.map((h) => h.boot));
    expect(after.map((h) => h.id)).toEqual(["server0", "server1", "server2"]);
    await again.stop(); // it launched nothing: the servers keep running
    expect((await Promise.all(hosts.map(health))).map((h) => h.boot)).toEqual(before.map((h) => h.boot));
  });

  it("autoManaged: false prints the command to start a server and times out naming it", async () => {
    const [port] = await freePorts(1);
    const lines: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(String(line)));
    try {
      const byHand = new sy.TFECluster(
        new sy.TFEWorker({ host: `localhost:${port}`, autoManaged: false }),
        ...hosts.slice(1).map((host) => new sy.TFEWorker({ host })),
        { stateDir: fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-keras-hand-")), startTimeoutMs: 1_500 },
      );
      await expect(byHand.start()).rejects.toMatchObject({ code: sy.ErrorCode.TIMEOUT });
      await expect(byHand.start()).rejects.toThrow(new RegExp(`server0 did not answer at .*:${port}/health`));
    } finally {
      log.mockRestore();
    }
    expect(lines.join("\n")).toMatch(
      new RegExp(`npx tsyft node --id server0 --host 127.0.0.1 --port ${port} --identity`),
    );
  });
});

describe("model.share(cluster)", () => {
  it("refuses a layer without a secure version, naming it, and shares nothing", async () => {
    const objects = (await health(hosts[0]!)).objects;
    const lstm = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: "tanh", name: "squash" })],
    });
    await expect(lstm.share(cluster)).rejects.toMatchObject({
      code: sy.ErrorCode.UNSUPPORTED_LAYER,
      message: expect.stringContaining('"squash"'),
    });
    expect((await health(hosts[0]!)).objects).toBe(objects);
  });

  it("serve() before share() is a typed error that says what to do", async () => {
    const other = model13b(3);
    await expect(other.serve({ numRequests: 1 })).rejects.toMatchObject({
      code: sy.ErrorCode.MODEL_NOT_SERVED,
      message: expect.stringContaining("model.share(cluster)"),
    });
  });
});

describe("serving 13b's model", () => {
  const inputs = images(4);

  it("serve({ numRequests: 3 }): a client process gets three private predictions equal to plaintext, the fourth is refused", async () => {
    await model.share(cluster);
    const lines: string[] = [];
    const log = vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(String(line)));
    try {
      const serving = model.serve({ numRequests: 3 });
      const client = startClient({ hosts, inputShape: INPUT_SHAPE, outputShape: OUTPUT_SHAPE, inputs, stateDir });
      const results = await client.done;
      expect(await serving).toEqual({ name: "model", numRequests: 3, served: 3, stopped: false });
      expectAnswers(results.slice(0, 3), plaintext(inputs.slice(0, 3)));
      expect(results[3]!.error).toMatchObject({
        code: sy.ErrorCode.SERVING_LIMIT,
        message: expect.stringContaining("served its 3 requests"),
      });
    } finally {
      log.mockRestore();
    }
    expect(lines).toEqual([1, 2, 3].map((i) => `Served encrypted prediction ${i} to client.`));
  }, 120_000);

  it("counts on the servers under concurrency: 3 processes x 2 queries with numRequests 5 answer exactly 5", async () => {
    const serving = model.serve({ numRequests: 5 });
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    try {
      const clients = [0, 1, 2].map((k) =>
        startClient({
          hosts,
          inputShape: INPUT_SHAPE,
          outputShape: OUTPUT_SHAPE,
          inputs: inputs.slice(k, k + 2),
          concurrency: 2,
          waitForGo: true,
        }),
      );
      await Promise.all(clients.map((c) => c.ready));
      for (const c of clients) c.go();
      const results = await Promise.all(clients.map((c) => c.done));
      expect((await serving).served).toBe(5);
      const answered = results.flatMap((r, k) => r.map((q, j) => ({ q, x: inputs[k + j]! }))).filter((a) => !a.q.error);
      const refused = results.flat().filter((q) => q.error);
      expect(answered).toHaveLength(5);
      expect(refused.map((q) => q.error!.code)).toEqual([sy.ErrorCode.SERVING_LIMIT]);
      expectAnswers(
        answered.map((a) => a.q),
        plaintext(answered.map((a) => a.x)),
      );
    } finally {
      log.mockRestore();
    }
  }, 120_000);

  it("stop(): a query waits for serving, then fails with MODEL_NOT_SERVED; shapes are checked before anything is sent", async () => {
    await model.stop();
    const client = new sy.TFEWorker();
    await expect(client.connectToModel([1, 32, 32, 3], OUTPUT_SHAPE, cluster)).rejects.toMatchObject({
      code: sy.ErrorCode.SHAPE_MISMATCH,
    });
    await client.connectToModel(INPUT_SHAPE, OUTPUT_SHAPE, cluster);
    try {
      await expect(client.queryModel(tf.zeros([28, 28]))).rejects.toMatchObject({
        code: sy.ErrorCode.SHAPE_MISMATCH,
        message: expect.stringContaining("[1,28,28,1]"),
      });
      await expect(client.queryModel(tf.zeros(INPUT_SHAPE), { timeoutMs: 300 })).rejects.toMatchObject({
        code: sy.ErrorCode.MODEL_NOT_SERVED,
      });
      // Served again, the same connection is answered.
      const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
      try {
        const serving = model.serve({ numRequests: 1 });
        const y = await client.queryModel(tf.tensor(inputs[0]!, INPUT_SHAPE));
        expectAnswers([{ ms: 0, logits: Array.from(y.dataSync()) }], plaintext([inputs[0]!]));
        expect((await serving).served).toBe(1);
      } finally {
        log.mockRestore();
      }
    } finally {
      await client.disconnect();
    }
  }, 120_000);

  it("client.preprocess(n): the next n queries use material dealt ahead and answer as plaintext does", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const client = new sy.TFEWorker();
    try {
      const serving = model.serve({ numRequests: 2 });
      await client.connectToModel(INPUT_SHAPE, OUTPUT_SHAPE, cluster);
      await expect(client.preprocess(0)).rejects.toMatchObject({ code: sy.ErrorCode.INVALID_ARGUMENT });
      expect(await client.preprocess(2)).toBeGreaterThan(0);
      const got: ClientResult[] = [];
      for (const x of inputs.slice(0, 2)) {
        got.push({ ms: 0, logits: Array.from((await client.queryModel(tf.tensor(x, INPUT_SHAPE))).dataSync()) });
      }
      expectAnswers(got, plaintext(inputs.slice(0, 2)));
      expect((await serving).served).toBe(2);
    } finally {
      await client.disconnect();
      log.mockRestore();
    }
  });

  it("stop() ends a pending serve with what was served", async () => {
    const serving = model.serve({ numRequests: 10 });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await model.stop();
    expect(await serving).toEqual({ name: "model", numRequests: 10, served: 0, stopped: true });
  });
});

describe("what an anonymous client may not do on the servers", () => {
  let raw: sy.grid.WebsocketGridClient[];
  let served: sy.SerializedPlan;

  beforeAll(async () => {
    const hook = sy.hook(tf);
    raw = hosts.map(
      (host, i) => new sy.grid.WebsocketGridClient(hook, `ws://${host}`, { id: `server${i}`, token: null }),
    );
    await Promise.all(raw.map((c) => c.connect()));
    served = sy.planFromBytes(await raw[0]!.fetchPlanBytes("model", { copy: true }));
  });
  afterAll(async () => {
    await Promise.all(raw.map((c) => c.close()));
  });

  it("cannot raise server0's count, nor overwrite or release the model", async () => {
    const key = sy.grantKeyOf(served);
    await expect(raw[0]!.grant({ ...key, anyone: true, maxRuns: 1_000 })).rejects.toMatchObject({
      code: sy.ErrorCode.AUTH,
    });
    await expect(raw[0]!.storePlan("model", sy.planToBytes(served), {})).rejects.toMatchObject({
      code: sy.ErrorCode.AUTH,
    });
    raw[0]!.release([...key.stateIds.filter((id): id is string => id !== null), "model"]);
    expect(await raw[0]!.ping()).toBe("server0");
    expect(sy.planFromBytes(await raw[0]!.fetchPlanBytes("model", { copy: true })).id).toBe("model");
    expect((await raw[0]!.grantUsage(key))?.maxRuns).toBe(0);
  });

  it("cannot run another IR over the weight shares (return state[0]) even while the model is served", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const serving = model.serve({ numRequests: 1 });
    try {
      const swapped = sy.Plan.deserialize({ ...served, ir: { ...served.ir, outputs: [served.ir.inputs.length] } });
      const x = tf.zeros(INPUT_SHAPE).fixPrecision().share(raw[0]!, raw[1]!, { cryptoProvider: raw[2]! });
      const y = swapped.run(x) as sy.FixedPrecisionTensor;
      await expect(y.get()).rejects.toThrow(/Anonymous clients may only query/);
    } finally {
      await model.stop();
      await serving;
      log.mockRestore();
    }
  });
});
