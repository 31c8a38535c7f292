// The "fss" comparison on a grid of node processes: a model served with mpc
// (through the gateway, PublicGridNetwork) whose ReLU the holders run by
// function secret sharing, with the DCF keys dealt by the provider node on
// demand and ahead of time. The setting travels from the client's config in
// every command: a deliberately narrow fssBits shows that the nodes use it.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { startPublicGrid, type PublicGridFixture } from "./helpers";

/** relu(x · w + b), elementwise: one secure product and one comparison per element. */
class Relu extends sy.Plan {
  w = tf.tensor([1, 1, 1, 1, 1, 1]);
  b = tf.tensor([0, 0, 0, 0, 0, 0]);
  override forward(x: sy.TensorLike) {
    return sy.F.relu(sy.F.add(sy.F.mul(x, this.w), this.b));
  }
}

const input = tf.tensor([-3, -0.5, 0, 0.25, 2, -1000]);
const want = [0, 0, 0, 0.25, 2, 0];

let fixture: PublicGridFixture;
let network: sy.PublicGridNetwork;

beforeAll(async () => {
  fixture = await startPublicGrid({ inProcess: false });
  network = fixture.network;
  const model = new Relu({ id: "relu-toy" });
  await model.build(tf.zeros([6]));
  await network.serveModel(model, { id: "relu-toy", allowRemoteInference: true, mpc: true });
}, 180_000);

afterAll(async () => {
  await fixture?.close();
});

describe("a served model's ReLU by FSS on node processes", () => {
  const infer = () => network.runRemoteInference("relu-toy", input, { mpc: true });

  it("answers as TF.js does, on demand and with the DCF keys dealt ahead to both holders", async () => {
    const fss = await sy.withConfig({ comparison: "fss" }, infer);
    expect(Array.from(fss.dataSync())).toEqual(want);
    const ahead = await sy.withConfig({ comparison: "fss" }, async () => {
      await network.preprocess("relu-toy", 1, [6]);
      return infer();
    });
    expect(Array.from(ahead.dataSync())).toEqual(want);
    // Kogge-Stone on the same grid gives the same answer.
    expect(Array.from((await infer()).dataSync())).toEqual(want);
  });

  it("the nodes compare with the client's fssBits: 8 bits read only the zero low bits of encoded values", async () => {
    // Encoded values are multiples of 2^16, so their low 8 bits are 0 and read as "not negative": relu is the identity.
    const narrow = await sy.withConfig({ comparison: "fss", fssBits: 8 }, infer);
    expect(Array.from(narrow.dataSync())).toEqual(Array.from(input.dataSync()));
  });
});
