// Issue 12 and the wave's rule "kill and restart every kind of process
// mid-query: answers must be right or a typed error, never silently wrong",
// for a Keras serving cluster: a share holder killed while queries run, then
// the cluster restarted (fresh servers, the shares gone) under a client that
// still holds its old connection.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import * as sy from "../../src";
import { freePorts, images, model13b } from "./helpers";

const INPUT_SHAPE = [1, 28, 28, 1];

let stateDir: string;
let cluster: sy.TFECluster;
let model: tf.Sequential;

beforeAll(async () => {
  sy.KerasHook(tf);
  stateDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-keras-restarts-"));
  const hosts = (await freePorts(3)).map((p) => `localhost:${p}`);
  cluster = new sy.TFECluster(...hosts.map((host) => new sy.TFEWorker({ host })), { stateDir });
  await cluster.start();
  model = model13b(5);
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(stateDir, { recursive: true, force: true });
});

describe("a Keras cluster losing a server", () => {
  it("server1 killed mid-query: the queries fail with typed errors, none answers wrong; after a restart the old connection is told to connect again and a new one is answered right", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
    const inputs = images(6, 21);
    const plain = (x: number[]) => Array.from((model.predict(tf.tensor(x, INPUT_SHAPE)) as tf.Tensor).dataSync());
    const closeTo = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!))) < 0.02;
    try {
      await model.share(cluster);
      const serving = model.serve({ numRequests: 100, timeoutMs: 120_000 });
      const client = new sy.TFEWorker();
      await client.connectToModel(INPUT_SHAPE, [1, 10], cluster);
      const first = await client.queryModel(tf.tensor(inputs[0]!, INPUT_SHAPE));
      expect(closeTo(Array.from(first.dataSync()), plain(inputs[0]!))).toBe(true);

      // Five queries in flight, then server1 goes.
      const inFlight = inputs.slice(1).map((x) =>
        client.queryModel(tf.tensor(x, INPUT_SHAPE), { timeoutMs: 5_000 }).then(
          (y) => ({ x, y: Array.from(y.dataSync()) }),
          (error: sy.TsyftError) => ({ x, error }),
        ),
      );
      const server1 = cluster.servers().find((s) => s.id === "server1")!;
      process.kill(server1.pid!, "SIGKILL");
      const outcomes = await Promise.all(inFlight);
      for (const o of outcomes) {
        if ("y" in o) expect(closeTo(o.y, plain(o.x)), "an answer from before the kill").toBe(true);
        else expect(o.error, String(o.error)).toBeInstanceOf(sy.TsyftError);
      }
      expect(outcomes.some((o) => "error" in o)).toBe(true);
      await model.stop().catch(() => undefined);
      await serving.catch(() => undefined);

      // A fresh cluster on the same ports: the old connection's model is gone, a new share serves again.
      await cluster.stop();
      await cluster.start();
      await model.share(cluster);
      const again = model.serve({ numRequests: 1, timeoutMs: 120_000 });
      await expect(client.queryModel(tf.tensor(inputs[1]!, INPUT_SHAPE), { timeoutMs: 5_000 })).rejects.toBeInstanceOf(
        sy.TsyftError,
      );
      await client.disconnect();
      const fresh = new sy.TFEWorker();
      await fresh.connectToModel(INPUT_SHAPE, [1, 10], cluster);
      const y = await fresh.queryModel(tf.tensor(inputs[1]!, INPUT_SHAPE));
      expect(closeTo(Array.from(y.dataSync()), plain(inputs[1]!))).toBe(true);
      expect((await again).served).toBe(1);
      await fresh.disconnect();
    } finally {
      log.mockRestore();
    }
  }, 240_000);
});
