// The user-facing contract of DESIGN.md section 1: the notebook example, errors
// with class, code and message, pointers, worker object stores and the
// validation mode.
import * as tf from "@tensorflow/tfjs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { Op } from "../../src/core/ops";
import * as ring from "../../src/ring";
import { partyOps } from "../../src/mpc/party-ops";

let hook: sy.Hook;
let alice: sy.VirtualWorker;
let bob: sy.VirtualWorker;
let charlie: sy.VirtualWorker;
let dan: sy.VirtualWorker;

beforeEach(() => {
  hook = sy.hook(tf);
  [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id })) as [
    sy.VirtualWorker,
    sy.VirtualWorker,
    sy.VirtualWorker,
    sy.VirtualWorker,
  ];
});

/** Runs `fn` and returns what it threw (synchronously), failing if it did not throw. */
function thrown(fn: () => unknown): sy.TsyftError {
  try {
    fn();
  } catch (error) {
    return error as sy.TsyftError;
  }
  return expect.fail("expected a synchronous throw") as never;
}

async function rejected(promise: Promise<unknown>): Promise<sy.TsyftError> {
  return promise.then(
    () => expect.fail("expected a rejection") as never,
    (error: unknown) => error as sy.TsyftError,
  );
}

/** Records every message on the hook's in-process network. */
function tapAll(): { events: sy.TapEvent[]; stop(): void } {
  const events: sy.TapEvent[] = [];
  const stop = bob.network.tap((e) => events.push(e));
  return { events, stop };
}

describe("DESIGN.md section 1", () => {
  it("the notebook example, verbatim: [3.75, 2.8125]", async () => {
    const me = hook.localWorker;
    expect(me.id).toBe("me");
    const x = tf.tensor([1.5, -2.25]);
    const xSh = x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const y = xSh.mul(xSh).add(xSh); // returns at once; work is pipelined
    const plain = (await y.get()).floatPrecision(); // tf.Tensor [3.75, 2.8125]
    expect(plain).toBeInstanceOf(tf.Tensor);
    expect(plain.dtype).toBe("float32");
    expect(Array.from(plain.dataSync())).toEqual([3.75, 2.8125]);
    // fixPrec is the alias; tf.Tensor#share is fixPrecision().share(...).
    const again = (await tf.tensor([1.5, -2.25]).share(bob, charlie, { cryptoProvider: dan }).mul(2).get()).floatPrec();
    expect(Array.from(again.dataSync())).toEqual([3, -4.5]);
    expect(x.fixPrec().encoding).toEqual({ base: 2, precisionFractional: 16 });
  });

  it("ops on shared tensors return at once: nothing is awaited before get()", () => {
    const xSh = tf.tensor([1, 2]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const started = performance.now();
    let y = xSh;
    for (let i = 0; i < 20; i++) y = y.mul(xSh).relu();
    expect(performance.now() - started).toBeLessThan(500);
    expect(y.isShared).toBe(true);
    expect([...y.shape]).toEqual([2]);
  });

  it("sharing shows the holders and the provider, and frees shares after get()", async () => {
    const xSh = tf.tensor([1, 2, 3]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    expect(String(xSh)).toMatch(
      /FixedPrecisionTensor \[3\] \(base 2, 16 fractional bits\), shared among \[bob, charlie\] with crypto provider dan/,
    );
    expect(await bob.objectCount()).toBe(1);
    expect(await charlie.objectCount()).toBe(1);
    expect(await dan.objectCount()).toBe(0);
    await xSh.get();
    expect(await bob.objectCount()).toBe(0);
    expect(await charlie.objectCount()).toBe(0);
  });
});

describe("errors: class, code and message", () => {
  it("a shape mismatch throws at once, before any message is sent", async () => {
    const a = tf.zeros([2, 3]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const b = tf.zeros([3, 2]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    await bob.objectCount(); // the shares have arrived
    const tap = tapAll();
    const err = thrown(() => a.add(b));
    const mm = thrown(() => a.matmul(a));
    const conv = thrown(() => a.conv2d(b));
    tap.stop();
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(err.code).toBe("TSYFT_ERR_SHAPE_MISMATCH");
    expect(err.message).toMatch(/\[2, 3\].*\[3, 2\]/);
    expect(mm.code).toBe("TSYFT_ERR_SHAPE_MISMATCH");
    expect(mm.message).toMatch(/inner dimensions differ.*got 3 and 2/);
    expect(conv.code).toBe("TSYFT_ERR_SHAPE_MISMATCH");
    expect(conv.message).toMatch(/conv2d expects an input \[batch, height, width, channels\]/);
    expect(tap.events).toEqual([]);
  });

  it("tensors shared among different holders (or providers) cannot be mixed: HOLDERS_MISMATCH", () => {
    const a = tf.ones([2]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const b = tf.ones([2]).fixPrecision().share(alice, charlie, { cryptoProvider: dan });
    const c = tf.ones([2]).fixPrecision().share(bob, charlie, { cryptoProvider: alice });
    const tap = tapAll();
    for (const [other, shown] of [
      [b, /\[bob, charlie\] with crypto provider dan and \[alice, charlie\] with crypto provider dan/],
      [c, /with crypto provider dan and \[bob, charlie\] with crypto provider alice/],
    ] as const) {
      const err = thrown(() => a.add(other));
      expect(err).toBeInstanceOf(sy.ProtocolError);
      expect(err.code).toBe("TSYFT_ERR_HOLDERS_MISMATCH");
      expect(err.message).toMatch(shown);
      expect(err.message).toMatch(/Share both tensors with the same holders and crypto provider/);
    }
    tap.stop();
    expect(tap.events).toEqual([]);
    // share() itself refuses a repeated holder and a provider that also holds a share.
    expect(thrown(() => tf.ones([1]).fixPrecision().share(bob, bob))).toMatchObject({
      code: "TSYFT_ERR_HOLDERS_MISMATCH",
    });
    const self = thrown(() => tf.ones([1]).fixPrecision().share(bob, charlie, { cryptoProvider: bob }));
    expect(self).toMatchObject({ code: "TSYFT_ERR_HOLDERS_MISMATCH" });
    expect(self.message).toMatch(/crypto provider bob must not also hold a share/);
    expect(thrown(() => tf.ones([1]).fixPrecision().share(bob))).toMatchObject({ code: "TSYFT_ERR_INVALID_ARGUMENT" });
  });

  it("mul without a crypto provider is refused at once, before anything is sent", async () => {
    const x = tf.tensor([1, 2]).fixPrecision().share(bob, charlie);
    const tap = tapAll();
    const err = thrown(() => x.mul(x));
    tap.stop();
    expect(tap.events).toEqual([]);
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(err.code).toBe("TSYFT_ERR_NO_CRYPTO_PROVIDER");
    expect(err.details.op).toBe("mul");
    expect(err.message).toMatch(
      /mul on shared tensors needs correlated randomness.*share\(bob, charlie, \{ cryptoProvider: dan \}\)/,
    );
    // Multiplying by a public value and linear ops need no provider.
    expect(Array.from((await x.mul(3).get()).floatPrecision().dataSync())).toEqual([3, 6]);
    expect(Array.from((await x.add(x).get()).floatPrecision().dataSync())).toEqual([2, 4]);
  });

  it("a holder that gets a secure mul without a provider anyway fails it at get(), naming the op, the worker and the cause", async () => {
    const x = tf.tensor([1, 2]).fixPrecision().share(bob, charlie);
    const child = x.child as sy.AdditiveSharingTensor;
    // A raw command, as a client that skips the checks would send it.
    const y = child.run(
      "mul",
      [
        { kind: "object", id: child.id },
        { kind: "object", id: child.id },
      ],
      {},
      x.encoding,
      [2],
    );
    const err = await rejected(new sy.FixedPrecisionTensor(x.hook, y, x.encoding).get());
    expect(err).toBeInstanceOf(sy.WorkerError);
    expect(err.code).toBe("TSYFT_ERR_REMOTE_OP_FAILED");
    expect(err.details.cause).toBe("TSYFT_ERR_NO_CRYPTO_PROVIDER");
    expect(err.details.op).toBe("mul");
    expect(["bob", "charlie"]).toContain(err.details.worker);
    expect(err.message).toMatch(/^Op "mul" producing "[^"]+" failed on (bob|charlie): /);
  });

  it("encode overflow: ENCODE_OVERFLOW with the limit in the message", () => {
    const limit = 2 ** 62 / 2 ** 16;
    const err = thrown(() => tf.tensor([1, 1e14]).fixPrecision());
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(err.code).toBe("TSYFT_ERR_ENCODE_OVERFLOW");
    expect(err.message).toContain(limit.toExponential(3)); // 7.037e+13
    expect(err.message).toMatch(/Cannot encode 100000000376832 \(element 1\) .*base 2, 16 fractional bits/);
    expect(err.details).toMatchObject({ index: 1, limit });
    expect(thrown(() => tf.tensor([NaN]).fixPrecision()).code).toBe("TSYFT_ERR_ENCODE_OVERFLOW");
    expect(thrown(() => tf.tensor([Infinity]).fixPrecision()).code).toBe("TSYFT_ERR_ENCODE_OVERFLOW");
    // PySyft's encoding has a larger limit (2^62 / 1000) ...
    expect(tf.tensor([1e14]).fixPrecision({ base: 10, precisionFractional: 3 }).shape).toEqual([1]);
    // ... and a public operand that overflows is refused at once too, naming the op.
    const xSh = tf.tensor([1]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const pub = thrown(() => xSh.add(tf.tensor([1e15])));
    expect(pub.code).toBe("TSYFT_ERR_ENCODE_OVERFLOW");
    expect(pub.message).toMatch(/^add: public operand: Cannot encode/);
  });

  it("an unknown object: OBJECT_NOT_FOUND naming the worker and the id", async () => {
    const err = await rejected(bob.fetch("no-such-id", { remove: false }));
    expect(err).toBeInstanceOf(sy.WorkerError);
    expect(err.code).toBe("TSYFT_ERR_OBJECT_NOT_FOUND");
    expect(err.message).toMatch(/^Worker bob holds no object "no-such-id"\./);
    expect(err.details).toEqual({ worker: "bob", id: "no-such-id" });
  });

  it("a pointer used after get() or move(): POINTER_RELEASED, thrown at once", async () => {
    const p = tf.tensor([1, 2]).send(bob);
    await p.get();
    const errors = [thrown(() => p.add(1)), thrown(() => p.copy()), await rejected(p.get())];
    for (const err of errors) {
      expect(err).toBeInstanceOf(sy.WorkerError);
      expect(err.code).toBe("TSYFT_ERR_POINTER_RELEASED");
      expect(err.message).toMatch(new RegExp(`pointer to ${p.id} on bob was released by get\\(\\)`));
      expect(err.details).toEqual({ worker: "bob", id: p.id });
    }
    const q = tf.tensor([3]).send(bob);
    await q.move(alice);
    const err = thrown(() => q.mul(2));
    expect(err.code).toBe("TSYFT_ERR_POINTER_RELEASED");
    expect(err.message).toMatch(/released by move\(alice\)/);
  });

  it("a duplicate worker id: WORKER_ID; a malformed one too", () => {
    const err = thrown(() => new sy.VirtualWorker(hook, { id: "bob" }));
    expect(err).toBeInstanceOf(sy.CommunicationError);
    expect(err.code).toBe("TSYFT_ERR_WORKER_ID");
    expect(err.message).toMatch(/A worker with id "bob" already exists/);
    expect(thrown(() => new sy.VirtualWorker(hook, { id: "a b" })).code).toBe("TSYFT_ERR_WORKER_ID");
    // Another hook is another network: the same id is free there.
    expect(new sy.VirtualWorker(sy.hook(tf), { id: "bob" }).id).toBe("bob");
  });

  it("a pipelined op failure surfaces at the next awaited get, naming op, worker and object id", async () => {
    const p = tf.tensor([1, 2]).send(bob);
    await bob.clearObjects(); // the pointer's object is gone, behind the client's back
    const q = p.add(1); // returns at once
    const r = q.mul(2); // depends on the failed op
    const s = tf.tensor([5]).send(bob); // unrelated: still fine
    expect(Array.from((await s.get()).dataSync())).toEqual([5]);
    const err = await rejected(q.get());
    expect(err).toBeInstanceOf(sy.WorkerError);
    expect(err.code).toBe("TSYFT_ERR_REMOTE_OP_FAILED");
    expect(err.details).toMatchObject({ worker: "bob", id: q.id, op: "add", cause: "TSYFT_ERR_OBJECT_NOT_FOUND" });
    expect(err.message).toBe(
      `Op "add" producing "${q.id}" failed on bob: Worker bob holds no object "${p.id}". ` +
        "It may have been fetched with get() (which frees it), moved, or never sent.",
    );
    const chained = await rejected(r.get());
    expect(chained.details).toMatchObject({ worker: "bob", id: r.id, op: "mul", cause: "TSYFT_ERR_OBJECT_NOT_FOUND" });
    expect(chained.message).toMatch(
      new RegExp(`^Op "mul" producing "${r.id}" failed on bob: Op "add" producing "${q.id}" failed on bob`),
    );
  });

  it("a failed secure op does not hang the other holder and leaves the workers usable", async () => {
    const x = tf.tensor([1, -1]).fixPrecision().share(bob, charlie); // no provider
    const child = x.child as sy.AdditiveSharingTensor;
    const raw = child.run("relu", [{ kind: "object", id: child.id }], {}, x.encoding, [2]);
    const err = await rejected(new sy.FixedPrecisionTensor(x.hook, raw, x.encoding).get());
    expect(err.details.cause).toBe("TSYFT_ERR_NO_CRYPTO_PROVIDER");
    expect(err.message).toMatch(/"relu"/);
    const ok = tf.tensor([1, -1]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    expect(Array.from((await ok.relu().get()).floatPrecision().dataSync())).toEqual([1, 0]);
  });

  it("div by a secret or by a non-number is refused at once (UNSUPPORTED_OP)", () => {
    const x = tf.tensor([1]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const err = thrown(() => x.div(x as unknown as number));
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(err.code).toBe("TSYFT_ERR_UNSUPPORTED_OP");
    expect(err.message).toMatch(/only division by a public number is supported/);
  });
});

describe("pointers", () => {
  it("send, ops, get", async () => {
    const p = tf.tensor([1, 2]).send(bob);
    expect(p).toBeInstanceOf(sy.PointerTensor);
    expect(p.location.id).toBe("bob");
    expect(String(p)).toMatch(new RegExp(`PointerTensor -> bob:${p.id} \\[2\\]`));
    const q = p.add(p).mul(3); // runs on bob
    expect([...q.shape]).toEqual([2]);
    expect(Array.from((await q.get()).dataSync())).toEqual([6, 12]);
    const m = tf
      .tensor([
        [1, 2],
        [3, 4],
      ])
      .send(bob);
    const v = tf.tensor([[1], [1]]);
    expect(Array.from((await m.matmul(v).get()).dataSync())).toEqual([3, 7]);
    expect(Array.from((await (sy.F.relu(tf.tensor([-1, 2]).send(bob)) as sy.PointerTensor).get()).dataSync())).toEqual([
      0, 2,
    ]);
  });

  it("copy keeps the original; move transfers the value and spends the old pointer", async () => {
    const p = tf.tensor([7, 8]).send(bob);
    const c = p.copy();
    expect(c.id).not.toBe(p.id);
    expect(Array.from((await c.get()).dataSync())).toEqual([7, 8]);
    const moved = await p.move(alice);
    expect(moved.location.id).toBe("alice");
    expect(await bob.listObjects()).toEqual([]);
    expect(await alice.listObjects()).toEqual([moved.id]);
    expect(Array.from((await moved.add(1).get()).dataSync())).toEqual([8, 9]);
    // Moving to where it already is changes nothing.
    const here = tf.tensor([1]).send(alice);
    expect(await here.move(alice)).toBe(here);
  });

  it("pointers on different workers cannot be combined (HOLDERS_MISMATCH, at once)", () => {
    const a = tf.tensor([1]).send(bob);
    const b = tf.tensor([1]).send(alice);
    const err = thrown(() => a.add(b));
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(err.code).toBe("TSYFT_ERR_HOLDERS_MISMATCH");
    expect(err.message).toMatch(/operands live on different workers \(bob and alice\)\. Move one first/);
  });
});

describe("worker object stores", () => {
  it("list, count and clear, through the client and locally", async () => {
    expect(await bob.listObjects()).toEqual([]);
    const p = tf.tensor([1]).send(bob);
    const q = tf.tensor([2]).send(bob);
    const xSh = tf.tensor([1, 2]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const ids = await bob.listObjects();
    expect(ids).toEqual([p.id, q.id, (xSh.child as sy.AdditiveSharingTensor).id]);
    expect(await bob.objectCount()).toBe(3);
    expect(bob.objects.count).toBe(3);
    expect(bob.objects.list(sy.ADMIN_OWNER)).toEqual(ids); // an in-process client is the admin
    expect(await charlie.objectCount()).toBe(1);
    await bob.clearObjects();
    expect(await bob.objectCount()).toBe(0);
    expect(bob.objects.count).toBe(0);
    expect(await charlie.objectCount()).toBe(1);
    p.release(); // releasing an object that is already gone is harmless
    expect(await bob.objectCount()).toBe(0);
  });

  it("results of pipelined ops are stored until fetched; release() frees without fetching", async () => {
    const p = tf.tensor([1, 2, 3]).send(bob);
    const q = p.mul(2);
    expect(await bob.listObjects()).toEqual([p.id, q.id]);
    q.release();
    expect(await bob.listObjects()).toEqual([p.id]);
    expect(thrown(() => q.add(1)).code).toBe("TSYFT_ERR_POINTER_RELEASED");
  });
});

describe("validation mode: sy.withConfig({ validate: true }, ...)", () => {
  const original = partyOps[Op.Add];
  afterEach(() => {
    (partyOps as Record<string, unknown>)[Op.Add] = original;
  });

  it("passes for correct secure ops", async () => {
    const x = tf.tensor([1.5, -2.25, 0, 3]);
    const result = await sy.withConfig({ validate: true }, async () => {
      const xSh = x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
      const y = xSh
        .mul(xSh)
        .add(xSh)
        .relu()
        .matmul(xSh.reshape([4, 1]))
        .div(3);
      return (await y.get()).floatPrecision();
    });
    const want = tf.div(tf.matMul(tf.relu(tf.add(tf.mul(x, x), x)).reshape([1, 4]), x.reshape([4, 1])), 3).reshape([1]);
    expect(result.dataSync()[0]).toBeCloseTo(want.dataSync()[0]!, 3);
  });

  it("throws TSYFT_ERR_VALIDATION_FAILED at get() when a protocol returns a wrong result", async () => {
    // A broken "add": correct on holder 0's side, off by one unit (1.0) on the last holder's.
    (partyOps as Record<string, unknown>)[Op.Add] = ((ctx, inputs, attrs, enc) => {
      const right = original(ctx, inputs, attrs, enc) as ring.RingTensor;
      return ctx.isFirst ? right : ring.addScalar(right, 1n << 16n);
    }) satisfies typeof original;
    const x = tf.tensor([1, 2, 3]);
    const err = await sy.withConfig({ validate: true }, async () => {
      const xSh = x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
      const y = xSh.add(xSh);
      return rejected(y.get());
    });
    expect(err).toBeInstanceOf(sy.ProtocolError);
    expect(err.code).toBe("TSYFT_ERR_VALIDATION_FAILED");
    expect(err.message).toMatch(
      /^Validation: secure add \([^)]+\) differs from plaintext by 1 at element 0 \(secure 3, plaintext 2; tolerance 0.01\)\./,
    );
    expect(err.details).toMatchObject({ op: "add", worst: 1, index: 0 });
    // Without validation the same wrong result goes unnoticed.
    const silent = (
      await tf.tensor([1]).fixPrecision().share(bob, charlie, { cryptoProvider: dan }).add(0).get()
    ).floatPrecision();
    expect(silent.dataSync()[0]).toBe(2);
  });

  it("the scope ends with withConfig: ops outside it are not validated", async () => {
    expect(sy.getConfig().validate).toBe(false);
    await sy.withConfig({ validate: true }, async () => {
      await Promise.resolve();
      expect(sy.getConfig().validate).toBe(true);
    });
    expect(sy.getConfig().validate).toBe(false);
  });
});
