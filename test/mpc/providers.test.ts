// The kinds of crypto provider behind one interface (src/mpc/provider/): each
// kind's material checked against plaintext ring arithmetic, how a user picks
// a kind and how it travels to the holders, what the insecure seeded provider
// sends (nothing), and what a worker does with a kind it does not know. The
// dealer's own traffic (holder 0 gets only a 16-byte key, the dealer gets no
// share) is tested in security.test.ts and protocols.test.ts.
import * as tf from "@tensorflow/tfjs";
import { beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { PROVIDER_KINDS, type ProviderKind } from "../../src/core/config";
import type { Conv2dAttrs } from "../../src/core/ops";
import { ProviderEndpoint } from "../../src/mpc/provider/endpoint";
import { insecureSeeded } from "../../src/mpc/provider/insecure-seeded";
import type { CryptoProvider, MaterialSource, MaterialSpec } from "../../src/mpc/provider/provider";
import { trustedDealer } from "../../src/mpc/provider/trusted-dealer";
import { reconstruct, reconstructBinary } from "../../src/mpc/sharing";
import * as ring from "../../src/ring";
import { decodeRequest } from "../../src/workers/messages";

const kinds: Record<ProviderKind, CryptoProvider> = {
  "trusted-dealer": trustedDealer,
  "insecure-seeded": insecureSeeded,
};

let hook: sy.SyHook;
let workers: Map<string, sy.VirtualWorker>;

beforeEach(() => {
  hook = sy.hook(tf);
  workers = new Map(["alice", "bob", "charlie", "dan"].map((id) => [id, new sy.VirtualWorker(hook, { id })]));
});

const bigints = (t: ring.RingTensor) => ring.toBigInts(t);
type TripleSpec = Extract<MaterialSpec, { kind: "beaver" | "binaryTriple" }>;

/** Every holder's share of a triple, reconstructed: additive for Beaver triples, XOR for binary ones. */
async function openTriple(sources: MaterialSource[], tag: string, spec: TripleSpec) {
  const shares = await Promise.all(sources.map((s) => s.triple(tag, spec)));
  const combine = spec.kind === "beaver" ? reconstruct : reconstructBinary;
  return {
    a: combine(shares.map((t) => t.a)),
    b: combine(shares.map((t) => t.b)),
    c: combine(await Promise.all(shares.map((t) => t.c))),
    mine: shares,
  };
}

describe("every kind deals correct material, for two and three holders", () => {
  for (const kind of PROVIDER_KINDS) {
    for (const holders of [
      ["bob", "charlie"],
      ["alice", "bob", "charlie"],
    ]) {
      it(`${kind}, ${holders.length} holders: Beaver triples for mul, matmul, conv2d and depthwiseConv2d, fixed-operand masks, binary triples (tensors and seeds), random bits`, async () => {
        const sources = holders.map((h) => kinds[kind].holderSource(workers.get(h)!.comm, "dan", holders));
        const conv: Conv2dAttrs = { strides: [1, 1], padding: "same", dilations: [1, 1] };
        const beaver: Array<[string, TripleSpec, (a: ring.RingTensor, b: ring.RingTensor) => ring.RingTensor]> = [
          ["mul", { kind: "beaver", op: { kind: "mul" }, xShape: [3, 1], yShape: [4] }, ring.mul],
          ["matmul", { kind: "beaver", op: { kind: "matmul" }, xShape: [3, 4], yShape: [4, 2] }, ring.matmul],
          [
            "conv2d",
            { kind: "beaver", op: { kind: "conv2d", attrs: conv }, xShape: [1, 4, 4, 2], yShape: [3, 3, 2, 3] },
            (a, b) => ring.conv2d(a, b, conv),
          ],
          [
            "depthwiseConv2d",
            {
              kind: "beaver",
              op: { kind: "depthwiseConv2d", attrs: conv },
              xShape: [1, 4, 4, 2],
              yShape: [3, 3, 2, 2],
            },
            (a, b) => ring.depthwiseConv2d(a, b, conv),
          ],
        ];
        for (const [name, spec, op] of beaver) {
          const { a, b, c } = await openTriple(sources, `m/${name}:t`, spec);
          expect(ring.equal(c, op(a, b)), `${name}: c = a ⊗ b`).toBe(true);
        }

        // A fixed operand's mask comes from its mask tag: the same in two triples, so x - a is opened once.
        const masked: TripleSpec = { kind: "beaver", op: { kind: "matmul" }, xShape: [2, 4], yShape: [4, 3] };
        const first = await openTriple(sources, "m/1:w", { ...masked, yMask: "mask:w1:y" });
        const second = await openTriple(sources, "m/2:w", { ...masked, yMask: "mask:w1:y" });
        expect(ring.equal(first.c, ring.matmul(first.a, first.b))).toBe(true);
        expect(ring.equal(second.c, ring.matmul(second.a, second.b))).toBe(true);
        first.mine.forEach((share, i) => expect(ring.equal(share.b, second.mine[i]!.b), "mask reused").toBe(true));
        expect(ring.equal(first.a, second.a), "the fresh operand's mask is fresh").toBe(false);
        const xFixed = await openTriple(sources, "m/3:w", { ...masked, xMask: "mask:x1:x" });
        expect(ring.equal(xFixed.c, ring.matmul(xFixed.a, xFixed.b))).toBe(true);

        const bin = await openTriple(sources, "m/4:and", { kind: "binaryTriple", shape: [64] });
        expect(ring.equal(bin.c, ring.and(bin.a, bin.b)), "binary c = a & b").toBe(true);
        // The form the AND kernels read: seeds on every holder, the last holder's c beside its seed.
        const seeded = await Promise.all(
          sources.map((s) => s.binaryTriple("m/5:and", { kind: "binaryTriple", shape: [64] })),
        );
        const expanded = await Promise.all(
          seeded.map(async ({ triple, c }) => {
            expect(triple).toHaveProperty("seed");
            const extra = await c;
            return ring.expandTriple({ ...(triple as ring.SeededTriple), ...(extra && { c: extra }) }, true);
          }),
        );
        const [sa, sb, sc] = (["a", "b", "c"] as const).map((k) => reconstructBinary(expanded.map((t) => t[k]!)));
        expect(ring.equal(sc!, ring.and(sa!, sb!)), "seeded binary c = a & b").toBe(true);

        const bits = await Promise.all(sources.map((s) => s.randomBits("m/6:bits", [256])));
        const asBinary = bigints(reconstructBinary(bits.map((s) => s.binary)));
        expect(asBinary).toEqual(bigints(reconstruct(bits.map((s) => s.arithmetic))));
        expect(asBinary.every((v) => v === 0n || v === 1n)).toBe(true);
        const ones = asBinary.filter((v) => v === 1n).length;
        expect(ones).toBeGreaterThan(80); // Binomial(256, 1/2): mean 128, sd 8
        expect(ones).toBeLessThan(176);
      });
    }
  }
});

describe("the insecure seeded provider (NOT secure: for fast tests)", () => {
  const seeded = <T>(fn: () => T): T => sy.withConfig({ cryptoProvider: "insecure-seeded" }, fn);

  it("is chosen with withConfig; every command names it; no message goes to or from the provider", async () => {
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => workers.get(id)!);
    const events: sy.TapEvent[] = [];
    const untap = bob!.network.tap((e) => events.push({ ...e, bytes: e.bytes.slice() }));
    const x = tf.tensor([[1.5, -2.25, 0, 3]]);
    const w = tf.tensor([[2], [1], [-2], [0.25]]);
    const [y, z] = await seeded(async () => {
      const xs = x.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
      const ws = w.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
      const out = xs.matmul(ws).relu().mul(xs.sum());
      return [(await out.get()).floatPrecision(), (await xs.lt(0).get()).floatPrecision()];
    });
    untap();
    expect(y.dataSync()[0]).toBeCloseTo(3.375, 3); // relu(3 - 2.25 + 0 + 0.75) · (1.5 - 2.25 + 0 + 3)
    expect(Array.from(z.dataSync())).toEqual([0, 1, 0, 0]);
    expect(events.filter((e) => e.from === "dan" || e.to === "dan")).toEqual([]);
    const commands = events
      .filter((e) => e.channel === "request")
      .map((e) => decodeRequest(e.bytes))
      .flatMap((r) => (r.t === "submit" ? [r.command] : []));
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) expect(command).toMatchObject({ provider: "dan", providerKind: "insecure-seeded" });
  });

  it("gives the dealer's results on a plan; preprocessing with it deals nothing and sends nothing", async () => {
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => workers.get(id)!);
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [6], units: 5, activation: "relu" }), tf.layers.dense({ units: 3 })],
    });
    const plan = sy.Plan.fromModel(model, { id: "seeded-mlp" });
    await plan.build();
    plan.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    const x = tf.randomNormal([2, 6], 0, 1, "float32", 7);
    const expected = model.predict(x) as tf.Tensor;
    const run = async () =>
      (
        await (
          plan.run(x.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! })) as sy.FixedPrecisionTensor
        ).get()
      ).floatPrecision();
    const toDan: string[] = [];
    const untap = bob!.network.tap(
      (e) => e.channel === "peer" && (e.to === "dan" || e.from === "dan") && toDan.push(e.from),
    );
    const dealt = await seeded(() => plan.preprocess(2, [2, 6]));
    const viaSeeded = await seeded(run);
    untap();
    expect(dealt).toBe(0);
    expect(toDan).toEqual([]);
    const viaDealer = await run();
    for (const y of [viaSeeded, viaDealer]) {
      expect(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0]).toBeLessThan(1e-2);
    }
  });

  it("opens a plan's masked weights once, and switching kinds between runs keeps results right", async () => {
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => workers.get(id)!);
    const model = tf.sequential({ layers: [tf.layers.dense({ inputShape: [32], units: 64 })] });
    const plan = sy.Plan.fromModel(model, { id: "seeded-masks" });
    await plan.build();
    plan.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    const x = tf.randomNormal([1, 32], 0, 1, "float32", 9);
    const expected = model.predict(x) as tf.Tensor;
    const run = async (kind: ProviderKind) => {
      let bytes = 0;
      const untap = bob!.network.tap(
        (e) => e.channel === "peer" && (e.from === "bob" || e.from === "charlie") && (bytes += e.bytes.byteLength),
      );
      const y = await sy.withConfig({ cryptoProvider: kind }, async () =>
        (
          await (
            plan.run(x.fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! })) as sy.FixedPrecisionTensor
          ).get()
        ).floatPrecision(),
      );
      untap();
      expect(tf.max(tf.abs(tf.sub(y, expected))).dataSync()[0], kind).toBeLessThan(1e-2);
      return bytes;
    };
    const weightBytes = 32 * 64 * 8;
    const first = await run("insecure-seeded");
    const second = await run("insecure-seeded");
    expect(first - second).toBeGreaterThan(2 * weightBytes * 0.9);
    // Each kind masks the weights its own way: a run with the dealer opens them again, then reuses them too.
    const dealerFirst = await run("trusted-dealer");
    expect(dealerFirst - second).toBeGreaterThan(2 * weightBytes * 0.9);
    await run("trusted-dealer");
    await run("insecure-seeded");
  });
});

describe("choosing a kind, and refusing one that does not exist", () => {
  it("the config accepts the known kinds and refuses others at once (INVALID_ARGUMENT)", () => {
    for (const kind of PROVIDER_KINDS) {
      expect(sy.withConfig({ cryptoProvider: kind }, () => sy.getConfig().cryptoProvider)).toBe(kind);
    }
    expect(sy.getConfig().cryptoProvider).toBe("trusted-dealer");
    let err: sy.TsyftError | undefined;
    try {
      sy.withConfig({ cryptoProvider: "tfp" as ProviderKind }, () => undefined);
    } catch (e) {
      err = e as sy.TsyftError;
    }
    expect(err).toBeInstanceOf(sy.TsyftError);
    expect(err!.code).toBe("TSYFT_ERR_INVALID_ARGUMENT");
    expect(err!.message).toMatch(/cryptoProvider "trusted-dealer" or "insecure-seeded", got "tfp"/);
  });

  it("a holder refuses a command naming a kind it does not know, with a typed error, and keeps serving", async () => {
    const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => workers.get(id)!);
    const x = tf.tensor([1, 2]).fixPrecision().share(bob!, charlie!, { cryptoProvider: dan! });
    const id = (x.child as sy.AdditiveSharingTensor).id;
    const operand = { kind: "object", id } as const;
    const command: sy.Command = {
      type: "shared-op",
      op: "mul",
      inputs: [operand, operand],
      attrs: {},
      output: "unknown-kind",
      holders: ["bob", "charlie"],
      provider: "dan",
      encoding: x.encoding,
    };
    // What a client of another version could send: a kind this library does not have.
    Object.assign(command, { providerKind: "tfp" });
    for (const holder of [bob!, charlie!]) holder.submit(command);
    const err = await bob!.fetch("unknown-kind", { remove: true }).then(
      () => undefined,
      (e: sy.TsyftError) => e,
    );
    expect(err!.code).toBe("TSYFT_ERR_REMOTE_OP_FAILED");
    expect(err!.details.cause).toBe("TSYFT_ERR_MALFORMED_MESSAGE");
    expect(err!.message).toMatch(/Unknown crypto provider kind "tfp": expected "trusted-dealer" or "insecure-seeded"/);
    expect(Array.from((await x.mul(x).get()).floatPrecision().dataSync())).toEqual([1, 4]);
  });

  it("a provider worker answers a request for a kind with no provider side, or an unknown kind, with an abort", () => {
    const endpoint = new ProviderEndpoint(workers.get("dan")!.comm);
    const request = (meta: unknown) =>
      endpoint.answer({ kind: "request", from: "bob", tag: "op7/3:x", tensors: [], meta });
    const seeded = request({ provider: "insecure-seeded", type: "key" });
    expect(seeded).toMatchObject({ kind: "abort", tag: "op7", tensors: [] });
    expect(seeded.meta).toMatch(
      /^crypto provider dan: bob sent a request for the insecure-seeded provider, which has no/,
    );
    const unknown = request({ provider: "tfp", type: "key" });
    expect(unknown).toMatchObject({ kind: "abort", tag: "op7" });
    expect(unknown.meta).toMatch(/Unknown crypto provider kind "tfp"/);
    const key = request({ provider: "trusted-dealer", type: "key", holders: ["bob", "charlie"] });
    expect(key.kind).toBe("reply");
    expect((key.meta as { key: Uint8Array }).key.byteLength).toBe(16);
  });

  it("the dealer gives keys only to a holder of the group asked for, one key per (holder, group)", () => {
    const dan = new ProviderEndpoint(workers.get("dan")!.comm);
    const ask = (from: string, holders?: unknown) =>
      dan.answer({ kind: "request", from, tag: `k-${from}/key`, tensors: [], meta: { type: "key", holders } });
    const keyOf = (frame: ReturnType<typeof ask>) =>
      Buffer.from((frame.meta as { key: Uint8Array }).key).toString("hex");
    const bobs = ask("bob", ["bob", "charlie"]);
    expect(bobs.kind).toBe("reply");
    expect(keyOf(ask("bob", ["bob", "charlie"]))).toBe(keyOf(bobs));
    // bob in another group gets another key: a group's keys say nothing of another's.
    expect(keyOf(ask("bob", ["alice", "bob"]))).not.toBe(keyOf(bobs));
    const outsider = ask("mallory", ["bob", "charlie"]);
    expect(outsider).toMatchObject({ kind: "abort", tag: "k-mallory" });
    expect(outsider.meta).toMatch(/mallory asked for dealer material of the group bob, charlie, which it is not in/);
    expect(ask("bob")).toMatchObject({ kind: "abort" });
    expect(ask("bob", ["bob", "bob"])).toMatchObject({ kind: "abort" });
  });
});
