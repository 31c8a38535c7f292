import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { COMPARISON_PROTOCOLS } from "../../src/core/config";

/** Largest absolute difference between two tensors. */
function maxDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => a.sub(b).abs().max().dataSync()[0]!);
}

async function decrypt(t: unknown): Promise<tf.Tensor> {
  return (await (t as sy.FixedPrecisionTensor).get()).floatPrecision();
}

let hook: sy.SyHook;
let me: sy.VirtualWorker;
let alice: sy.VirtualWorker, bob: sy.VirtualWorker, charlie: sy.VirtualWorker, dan: sy.VirtualWorker;

beforeAll(async () => {
  await tf.setBackend("cpu");
  hook = sy.hook(tf);
  me = hook.localWorker;
  [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
});

const share = (t: tf.Tensor) => t.fixPrecision().share(bob, charlie, { cryptoProvider: dan });

class Net extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

class Mlp extends sy.Plan {
  w1 = tf.randomNormal([12, 16], 0, 0.3, "float32", 1);
  b1 = tf.randomNormal([16], 0, 0.1, "float32", 2);
  w2 = tf.randomNormal([16, 4], 0, 0.3, "float32", 3);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(sy.F.relu(sy.F.matmul(x, this.w1).add(this.b1)), this.w2);
  }
}

class Cnn extends sy.Plan {
  k1 = tf.randomNormal([3, 3, 2, 4], 0, 0.3, "float32", 4);
  w = tf.randomNormal([16, 3], 0, 0.3, "float32", 5);
  override forward(x: sy.TensorLike) {
    const h = sy.F.maxPool2d(sy.F.relu(sy.F.conv2d(x, this.k1, { padding: "same" })), 2);
    return sy.F.matmul(sy.F.flatten(sy.F.avgPool2d(h, 2)), this.w);
  }
}

describe("Plan build and run", () => {
  it("reproduces the linear toy: [5, 3] gives [1022] in plaintext and under encryption", async () => {
    const model = new Net({ id: "toy-1" });
    await model.build(tf.tensor([1.0, 2]));
    expect(Array.from((model.run(tf.tensor([5, 3])) as tf.Tensor).dataSync())).toEqual([1022]);
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const out = await decrypt(model(share(tf.tensor([5, 3]))));
    expect(out.dataSync()[0]).toBeCloseTo(1022, 2);
  });

  for (const [name, make, shape] of [
    ["MLP", () => new Mlp(), [3, 12]],
    ["CNN", () => new Cnn(), [2, 8, 8, 2]],
  ] as const) {
    it(`${name}: the built plan equals eager execution on plaintext and on shares`, async () => {
      const plan = make();
      const x = tf.randomNormal([...shape], 0, 1, "float32", 7);
      const eager = (plan.forward as unknown as (x: tf.Tensor) => tf.Tensor)(x); // eager, on plaintext
      await plan.build(tf.zeros([...shape]));
      expect(maxDiff(plan.run(x) as tf.Tensor, eager)).toBeLessThan(1e-5);

      plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
      const secure = await decrypt(plan.run(share(x)));
      const secureEager = await decrypt(plan.runEagerly(share(x)));
      // Fixed point with 16 fractional bits: products truncate, so allow 1e-2.
      expect(maxDiff(secure, eager)).toBeLessThan(1e-2);
      expect(maxDiff(secureEager, eager)).toBeLessThan(1e-2);
    });
  }

  it("runs a plan built at batch 1 on a batch of 4 (flatten keeps the batch free)", async () => {
    const plan = new Cnn();
    await plan.build(tf.zeros([1, 8, 8, 2]));
    const x = tf.randomNormal([4, 8, 8, 2], 0, 1, "float32", 11);
    expect((plan.run(x) as tf.Tensor).shape).toEqual([4, 3]);
  });

  it("func2plan with and without state", async () => {
    const withState = sy.func2plan((x: sy.TensorLike, state: Record<string, sy.TensorLike>) => x.add(state.bias!), {
      state: { bias: tf.tensor([1, 2]) },
    });
    await withState.build(tf.zeros([2]));
    expect(Array.from((withState.run(tf.tensor([10, 20])) as tf.Tensor).dataSync())).toEqual([11, 22]);
    const noState = sy.func2plan((x: sy.TensorLike, y: sy.TensorLike) => sy.F.mul(x, y).sub(1));
    await noState.build(tf.zeros([2]), tf.zeros([2]));
    expect(Array.from((noState.run(tf.tensor([2, 3]), tf.tensor([4, 5])) as tf.Tensor).dataSync())).toEqual([7, 14]);
    expect(noState.code).toContain("mul(arg_1, arg_2)");
  });

  it("refuses a plan whose control flow depends on the data", async () => {
    class Branchy extends sy.Plan {
      override forward(x: sy.TensorLike) {
        return (x.sum() as unknown as number) > 0 ? x : x.neg();
      }
    }
    const error = await new Branchy().build(tf.zeros([2])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(sy.PlanError);
    expect((error as sy.PlanError).code).toBe("TSYFT_ERR_PLAN_INVALID");
    expect((error as Error).message).toMatch(/cannot depend on the data/);
  });

  it("refuses to run before build, with the code PLAN_NOT_BUILT", () => {
    expect(() => new Net().run(tf.zeros([2]))).toThrow(expect.objectContaining({ code: "TSYFT_ERR_PLAN_NOT_BUILT" }));
  });

  it("checks input shapes before sending anything", async () => {
    const plan = new Mlp();
    await plan.build(tf.zeros([1, 12]));
    plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const before = hook.ids.next();
    expect(() => plan.run(share(tf.zeros([1, 5])))).toThrow(
      expect.objectContaining({ code: "TSYFT_ERR_SHAPE_MISMATCH" }),
    );
    expect(before).toBeTruthy();
  });
});

describe("Plan.fromModel", () => {
  it("matches model.predict for a CNN with conv, pooling, flatten, dropout and dense", async () => {
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [10, 10, 3], filters: 4, kernelSize: 3, activation: "relu", padding: "same" }),
        tf.layers.maxPooling2d({ poolSize: 2 }),
        tf.layers.conv2d({ filters: 4, kernelSize: 3, strides: 1 }),
        tf.layers.activation({ activation: "relu" }),
        tf.layers.averagePooling2d({ poolSize: 3 }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.5 }),
        tf.layers.dense({ units: 5, activation: "relu" }),
        tf.layers.reLU(),
        tf.layers.dense({ units: 2 }),
      ],
    });
    const plan = sy.Plan.fromModel(model, { id: "from-model" });
    await plan.build();
    const x = tf.randomNormal([3, 10, 10, 3], 0, 1, "float32", 3);
    const expected = model.predict(x) as tf.Tensor;
    expect(maxDiff(plan.run(x) as tf.Tensor, expected)).toBeLessThan(1e-5);
    plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    expect(maxDiff(await decrypt(plan.run(share(x))), expected)).toBeLessThan(2e-2);
  });

  it("refuses an unsupported layer, naming it", () => {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [4], units: 3, activation: "softmax", name: "probs" })],
    });
    expect(() => sy.Plan.fromModel(model)).toThrow(expect.objectContaining({ code: "TSYFT_ERR_UNSUPPORTED_LAYER" }));
    expect(() => sy.Plan.fromModel(model)).toThrow(/Layer "probs" \(Dense\).*softmax/);
    const lstm = tf.sequential({ layers: [tf.layers.lstm({ inputShape: [3, 2], units: 2, name: "rnn" })] });
    expect(() => sy.Plan.fromModel(lstm)).toThrow(/Layer "rnn" \(LSTM\)/);
  });
});

describe("Plan serialization and readable form", () => {
  it("round-trips through bytes and runs the same", async () => {
    const plan = new Mlp();
    await plan.build(tf.zeros([1, 12]));
    const back = sy.Plan.fromBytes(plan.toBytes());
    expect(back.code).toBe(plan.code);
    const x = tf.randomNormal([2, 12], 0, 1, "float32", 9);
    expect(maxDiff(back.run(x) as tf.Tensor, plan.run(x) as tf.Tensor)).toBe(0);
  });

  it("fails clearly on corrupt bytes and unknown versions", async () => {
    const plan = new Net();
    await plan.build(tf.zeros([2]));
    const bytes = plan.toBytes();
    expect(() => sy.Plan.fromBytes(bytes.slice(0, 12))).toThrow(
      expect.objectContaining({ code: "TSYFT_ERR_SERIALIZATION" }),
    );
    expect(() => sy.Plan.fromBytes(new TextEncoder().encode("not a plan at all"))).toThrow(/no TSYFTPLN header/);
    const future = bytes.slice();
    future[8] = 99;
    expect(() => sy.Plan.fromBytes(future)).toThrow(/format version 99/);
  });

  it("shows the architecture of a shared plan but no weight values", async () => {
    class Distinct extends sy.Plan {
      fc1 = tf.tensor([2.625, 4.375]);
      bias = tf.tensor([1000.125]);
      override forward(x: sy.TensorLike) {
        return sy.F.matmul(this.fc1, x).add(this.bias);
      }
    }
    const plan = new Distinct({ id: "toy-code" });
    await plan.build(tf.tensor([1, 2]));
    plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const text = plan.code;
    expect(text).toContain("matmul");
    for (const weight of ["2.625", "4.375", "1000"]) expect(text).not.toContain(weight);
    const serialized = plan.serialize();
    expect(serialized.state.every((s) => s.kind === "shared")).toBe(true);
  });
});

describe("Sending and fetching plans", () => {
  it("fetches once without copy; the second fetch has its own code; copies stay available", async () => {
    const model = new Net({ id: "once" });
    await model.build(tf.tensor([1.0, 2]));
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).send(alice);
    await me.fetchPlan("once", alice);
    await expect(me.fetchPlan("once", alice)).rejects.toMatchObject({ code: "TSYFT_ERR_PLAN_ALREADY_FETCHED" });
    const copy = await me.fetchPlan("once", alice, { copy: true });
    expect((await decrypt(copy(share(tf.tensor([5, 3]))))).dataSync()[0]).toBeCloseTo(1022, 2);
  });

  it("of two concurrent fetches without copy, exactly one succeeds", async () => {
    const model = new Net({ id: "race" });
    await model.build(tf.tensor([1.0, 2]));
    await model.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).send(alice).ready();
    const results = await Promise.allSettled([me.fetchPlan("race", alice), me.fetchPlan("race", alice)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason.code).toBe("TSYFT_ERR_PLAN_ALREADY_FETCHED");
  });

  it("a fetched encrypted plan holds pointers to shares, never weights", async () => {
    const model = new Net({ id: "no-weights" });
    await model.build(tf.tensor([1.0, 2]));
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).send(alice);
    const fetched = await me.fetchPlan("no-weights", alice, { copy: true });
    for (const [, value] of fetched.state) {
      expect(value).toBeInstanceOf(sy.FixedPrecisionTensor);
      expect((value as sy.FixedPrecisionTensor).isShared).toBe(true);
    }
    // The bytes the host stored and handed out carry share ids, not values.
    const bytes = await alice.fetchPlanBytes("no-weights", { copy: true });
    const enc = (v: number) => new Uint8Array(new BigInt64Array([BigInt(Math.round(v * 2 ** 16))]).buffer);
    const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).indexOf(Buffer.from(needle)) >= 0;
    for (const w of [2, 4, 1000]) expect(contains(bytes, enc(w))).toBe(false);
  });

  it("requires the token a plan was sent with", async () => {
    const model = new Net({ id: "secret" });
    await model.build(tf.tensor([1.0, 2]));
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).send(alice, { token: "s3cret" });
    await expect(me.fetchPlan("secret", alice, { copy: true })).rejects.toMatchObject({ code: "TSYFT_ERR_AUTH" });
    await expect(me.fetchPlan("secret", alice, { copy: true, token: "wrong" })).rejects.toMatchObject({
      code: "TSYFT_ERR_AUTH",
    });
    const plan = await me.fetchPlan("secret", alice, { copy: true, token: "s3cret" });
    expect(plan.isBuilt).toBe(true);
  });

  it("runs a plaintext plan on its host through the PointerPlan, on pointers and on sent values", async () => {
    const model = new Net({ id: "hosted" });
    await model.build(tf.tensor([1.0, 2]));
    const ptrPlan = model.send(alice);
    const fromValue = ptrPlan.run(tf.tensor([5, 3])) as sy.PointerTensor;
    expect(Array.from((await fromValue.get()).dataSync())).toEqual([1022]);
    const x = tf.tensor([1, 1]).send(alice);
    expect(Array.from((await (ptrPlan.run(x) as sy.PointerTensor).get()).dataSync())).toEqual([1006]);
  });

  it("an encrypted PointerPlan runs on the holders, and a fetched plan works through the callable form", async () => {
    const model = new Mlp({ id: "mlp-ptr" });
    await model.build(tf.zeros([1, 12]));
    const x = tf.randomNormal([1, 12], 0, 1, "float32", 21);
    const expected = model.run(x) as tf.Tensor;
    const ptr = model.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).send(alice);
    expect(maxDiff(await decrypt(ptr.run(share(x))), expected)).toBeLessThan(1e-2);
    const fetched = await me.fetchPlan("mlp-ptr", alice);
    expect(maxDiff(await decrypt(fetched(share(x))), expected)).toBeLessThan(1e-2);
  });

  it("a sent plan shows itself as PySyft's did: class, name, id, owner, location, built", async () => {
    const model = new Net({ id: "shown" });
    await model.build(tf.tensor([1.0, 2]));
    const ptr = model.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).send(alice);
    expect(String(ptr)).toBe("<Net Net id:shown owner:me location:alice built>");
    const fromModel = sy.Plan.fromModel(tf.sequential({ layers: [tf.layers.dense({ inputShape: [2], units: 1 })] }), {
      id: "shown-model",
      name: "convnet",
      build: true,
    });
    expect(String(fromModel.send(alice))).toBe("<Plan convnet id:shown-model owner:me location:alice built>");
  });

  it("sends the whole plan to each holder in one command", async () => {
    const model = new Mlp({ id: "one-message" });
    await model.build(tf.zeros([1, 12]));
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const x = share(tf.zeros([1, 12]));
    const requests: string[] = [];
    const untap = bob.network.tap((e) => e.channel === "request" && requests.push(e.to));
    const y = model.run(x);
    untap();
    // One request to each holder (none to the dealer), whatever the number of ops.
    expect(requests.sort()).toEqual(["bob", "charlie"]);
    await decrypt(y);
  });
});

describe.each(COMPARISON_PROTOCOLS)("Dealing ahead of time (offline/online), comparison %s", (comparison) => {
  // Under fss every holder, not only the last, gets its DCF keys ahead.
  const under = (fn: () => Promise<void>) => () => sy.withConfig({ comparison }, fn);
  it(
    "after preprocess, an encrypted run talks only holder to holder and gives the same result",
    under(async () => {
      const model = new Cnn({ id: "pre-cnn" });
      await model.build(tf.zeros([1, 8, 8, 2]));
      const x = tf.randomNormal([1, 8, 8, 2], 0, 1, "float32", 33);
      const expected = model.run(x) as tf.Tensor;
      model.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
      const dealt = await model.preprocess(2, [1, 8, 8, 2]);
      expect(dealt).toBeGreaterThan(0);

      for (let run = 0; run < 2; run++) {
        const xSh = share(x);
        const toDealer: string[] = [];
        const untap = bob.network.tap(
          (e) => e.channel === "peer" && (e.to === "dan" || e.from === "dan") && toDealer.push(`${e.from}->${e.to}`),
        );
        const y = await decrypt(model.run(xSh));
        untap();
        expect(toDealer).toEqual([]);
        expect(maxDiff(y, expected)).toBeLessThan(1e-2);
      }
      // Once the dealt runs are used up, runs ask the dealer again, and still work.
      const toDealer: string[] = [];
      const untap = bob.network.tap((e) => e.channel === "peer" && e.to === "dan" && toDealer.push(e.from));
      expect(maxDiff(await decrypt(model.run(share(x))), expected)).toBeLessThan(1e-2);
      untap();
      expect(toDealer.length).toBeGreaterThan(0);
    }),
  );
});

describe("Fixed weights: masks opened once", () => {
  it("a second run does not reopen the masked weights, and gives the same result", async () => {
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [64], units: 128 })] });
    const plan = sy.Plan.fromModel(model, { id: "fixed-masks" });
    await plan.build();
    plan.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const x = tf.randomNormal([1, 64], 0, 1, "float32", 5);
    const expected = model.predict(x) as tf.Tensor;
    const peerBytes = async () => {
      let bytes = 0;
      const untap = bob.network.tap(
        (e) => e.channel === "peer" && (e.from === "bob" || e.from === "charlie") && (bytes += e.bytes.byteLength),
      );
      const y = await decrypt(plan.run(share(x)));
      untap();
      expect(maxDiff(y, expected)).toBeLessThan(1e-2);
      return bytes;
    };
    const first = await peerBytes();
    const second = await peerBytes();
    const weightBytes = 64 * 128 * 8;
    // The first run opens W - b between the two holders (both ways); later runs only x - a.
    expect(first - second).toBeGreaterThan(2 * weightBytes * 0.9);
    expect(second).toBeLessThan(weightBytes / 4);
  });
});

describe("Dealing ahead in batches", () => {
  it("splits the dealer's replies so that each fits in a message", async () => {
    const model = new Mlp({ id: "pre-batches" });
    await model.build(tf.zeros([1, 12]));
    const x = tf.randomNormal([4, 12], 0, 1, "float32", 8);
    const expected = model.run(x) as tf.Tensor;
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const requests: number[] = [];
    const untap = bob.network.tap((e) => e.channel === "peer" && e.to === "dan" && requests.push(e.bytes.byteLength));
    // A 4 KiB limit: a quarter of it (128 ring elements) per reply, so 3 runs' material needs several.
    await sy.withConfig({ maxMessageBytes: 4096 }, () => model.preprocess(3, [4, 12]));
    untap();
    expect(requests.length).toBeGreaterThan(3);
    for (let run = 0; run < 3; run++) expect(maxDiff(await decrypt(model.run(share(x))), expected)).toBeLessThan(1e-2);
  });
});

describe("Plans are callable instances of sy.Plan", () => {
  it("subclasses, func2plan, fromModel and fetched plans alike; plan(x) is plan.run(x)", async () => {
    const net = new Net({ id: "callable-net" });
    await net.build(tf.tensor([1.0, 2]));
    // Untyped parameters: func2plan gives a function without state its inputs' type.
    const fn = sy.func2plan((x, y) => sy.F.mul(x, y).sub(1), { id: "callable-fn" });
    await fn.build(tf.zeros([2]), tf.zeros([2]));
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [2], units: 1, kernelInitializer: "ones" })],
    });
    const converted = sy.Plan.fromModel(model, { id: "callable-model" });
    await converted.build();
    const back = sy.Plan.fromBytes(net.toBytes());
    const x = tf.tensor([5, 3]);
    for (const [plan, inputs] of [
      [net, [x]],
      [fn, [x, x]],
      [converted, [x.reshape([1, 2])]],
      [back, [x]],
    ] as const) {
      expect(plan).toBeInstanceOf(sy.Plan);
      expect(typeof plan).toBe("function");
      const called = plan(...inputs) as tf.Tensor;
      expect(Array.from(called.dataSync())).toEqual(Array.from((plan.run(...inputs) as tf.Tensor).dataSync()));
    }
    expect(Array.from((net(x) as tf.Tensor).dataSync())).toEqual([1022]);
    // What a plan keeps for itself is not among its own enumerable properties, where state fields are.
    expect(Object.keys(net)).toEqual(["fc1", "bias", "ir"]);
    expect(Object.keys(fn)).toEqual(["ir"]);
  });
});

describe("One sharing and encoding check for ops and plans", () => {
  const refusal = (run: () => unknown): sy.TsyftError => {
    try {
      run();
    } catch (error) {
      return error as sy.TsyftError;
    }
    throw new Error("expected a refusal");
  };

  it("a plan run refuses inputs shared among other parties, in the words of a single op, sending nothing", async () => {
    const model = new Net({ id: "other-parties" });
    await model.build(tf.tensor([1.0, 2]));
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const xElsewhere = tf.tensor([5, 3]).fixPrecision().share(alice, charlie, { cryptoProvider: dan });
    const sent: sy.TapEvent[] = [];
    const untap = bob.network.tap((e) => sent.push(e));
    const inPlan = refusal(() => model(xElsewhere));
    const inOp = refusal(() => xElsewhere.add(model.state[0]![1] as sy.FixedPrecisionTensor));
    untap();
    expect(sent).toEqual([]);
    for (const error of [inPlan, inOp]) {
      expect(error).toBeInstanceOf(sy.ProtocolError);
      expect(error.code).toBe("TSYFT_ERR_HOLDERS_MISMATCH");
    }
    expect(inPlan.message).toMatch(
      /^plan: operands are shared among different parties: \[alice, charlie\] with crypto provider dan and \[bob, charlie\] with crypto provider dan\. Share both tensors with the same holders and crypto provider\.$/,
    );
    expect(inPlan.message.replace(/^plan: /, "")).toBe(inOp.message.replace(/^add: /, ""));
  });

  it("a plan run refuses inputs in another fixed-point encoding, in the words of a single op", async () => {
    const model = new Net({ id: "other-encoding" });
    await model.build(tf.tensor([1.0, 2]));
    model.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const pysyft = tf.tensor([5, 3]).fixPrecision({ base: 10, precisionFractional: 3 });
    const xPysyft = pysyft.share(bob, charlie, { cryptoProvider: dan });
    const inPlan = refusal(() => model.run(xPysyft));
    const inOp = refusal(() => xPysyft.add(model.state[0]![1] as sy.FixedPrecisionTensor));
    for (const error of [inPlan, inOp]) {
      expect(error).toBeInstanceOf(sy.ProtocolError);
      expect(error.code).toBe("TSYFT_ERR_PRECISION_MISMATCH");
    }
    expect(inPlan.message).toMatch(/^plan: operands have different fixed-point encodings \(base 10, 3 fractional/);
    expect(inPlan.message.replace(/^plan: /, "")).toBe(inOp.message.replace(/^add: /, ""));
    await xPysyft.get();
  });
});
