/**
 * A model trained step by step (flow III) outlives a domain restart: after two steps the domain is stopped and
 * started again on the same data dir and port, the data scientist's ModelPointer takes its next steps, and they are
 * the steps the model would have taken without the restart, Adamax moments included. The oracle is the same
 * training done locally from the same starting weights and batches (the owner may take weights and values).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { ErrorCode } from "../../src/core/errors";
import { login, startDomain, type Domain } from "../../src/domain";
import { Trainer } from "../../src/nn/trainer";
import { failure, uploadPoints } from "./helpers";

const net = () =>
  new sy.nn.Model()
    .add(sy.nn.Linear(6, { inputShape: [null, 4], activation: "relu" }))
    .add(sy.nn.Linear(1, { activation: "sigmoid" }));

describe("a stepped model across a domain restart", () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-stepped-restart-"));
  let domain: Domain | undefined;
  afterAll(async () => {
    await domain?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("continues with the same weights, optimizer state and step count", async () => {
    domain = await startDomain({ name: "Hospital S", dataDir, port: 0 });
    const port = domain.port;
    const url = domain.url;
    const owner = await login({ email: "info@openmined.org", password: "changethis", url, log: false });
    const { points, labels } = await uploadPoints(owner, 32);
    await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget: 10 });
    const ada = await login({ email: "ada@example.org", password: "ada-secret", url, log: false });
    const dataset = (await ada.datasets)[0]!;
    const batches = await Promise.all(
      [0, 8, 16, 24].map(async (begin) => [
        await dataset["x"].slice([begin], [8]),
        await dataset["y"].slice([begin], [8]),
      ]),
    );

    // A fit gives the starting weights (known to the owner), then steps continue from them.
    const modelPtr = await net().compile({
      to: ada,
      loss: "BinaryCrossEntropy",
      optimizer: sy.nn.Adamax({ learningRate: 0.05 }),
    });
    await (await modelPtr.fit(dataset["x"], dataset["y"], { maxIter: 1, batchSize: 32 })).wait({ pollMs: 50 });
    const start = await owner.job(modelPtr.jobId!).weights().get();
    const losses = [
      await modelPtr.step(batches[0]![0]!, batches[0]![1]!),
      await modelPtr.step(batches[1]![0]!, batches[1]![1]!),
    ];
    // Only the owner takes weights unpublished.
    expect((await failure(ada.job(modelPtr.jobId!).weights().get())).code).toBe(ErrorCode.PERMISSION);

    await domain.close();
    domain = await startDomain({ name: "Hospital S", dataDir, port });
    losses.push(
      await modelPtr.step(batches[2]![0]!, batches[2]![1]!),
      await modelPtr.step(batches[3]![0]!, batches[3]![1]!),
    );
    const progress = await modelPtr.progress();
    expect(progress.steps).toBe(4);
    const state = await ada.job(progress.job).state();
    expect(state.progress.map((r) => r.step)).toEqual([1, 2, 3, 4]);

    // The oracle: the same four steps locally, from the same weights, on the same batches.
    const local = Trainer.create(tf, modelPtr.spec, { weights: start });
    const expected: number[] = [];
    for (let b = 0; b < 4; b++) {
      const [xs, ys] = [points.slice([8 * b], [8]), labels.slice([8 * b], [8])];
      const targets = local.targets(ys);
      expected.push(local.step(xs, targets));
      tf.dispose([xs, ys, targets]);
    }
    for (let i = 0; i < 4; i++) expect(losses[i]).toBeCloseTo(expected[i]!, 5);
    const remote = await (
      await login({ email: "info@openmined.org", password: "changethis", url, log: false })
    )
      .job(progress.job)
      .weights()
      .get();
    const mine = local.getWeights();
    remote.forEach((w, i) => {
      const [a, b] = [w.dataSync(), mine[i]!.dataSync()];
      for (let k = 0; k < a.length; k++) expect(a[k]).toBeCloseTo(b[k]!, 5);
    });
    tf.dispose([...start, ...remote, ...mine, points, labels]);
    local.dispose();

    // A cancelled stepped model takes no more steps, also after a restart.
    await modelPtr.cancel();
    await domain.close();
    domain = await startDomain({ name: "Hospital S", dataDir, port });
    expect((await failure(modelPtr.step(batches[0]![0]!, batches[0]![1]!))).code).toBe(ErrorCode.INVALID_ARGUMENT);
  });
});
