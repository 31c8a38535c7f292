// What one party sees must not depend on the secrets (DESIGN.md 3, security model):
// shares look uniform, one holder's shares of two secrets are indistinguishable,
// no message on the wire carries an encoded input, weight or intermediate
// product, and the crypto provider learns nothing but the shapes of requests.
import * as tf from "@tensorflow/tfjs";
import { beforeEach, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { COMPARISON_PROTOCOLS } from "../../src/core/config";
import { encode, encoding } from "../../src/encoding/fixed-point";
import * as ring from "../../src/ring";
import type { AdditiveSharingTensor } from "../../src/tensors/shared";
import { decodeFrame, decodeRequest } from "../../src/workers/messages";
import { Rng } from "../conformance/oracle";

// ---------------------------------------------------------------------------
// Statistics

/**
 * Upper quantile of chi-square with k degrees of freedom at the standard-normal
 * quantile z (Wilson–Hilferty; accurate to well under 1% for k = 255).
 * z = 4.753 is p = 1e-6 one-sided: with fewer than 40 tests per run, a
 * false alarm happens less than once in 25,000 runs.
 */
function chiSquareQuantile(k: number, z = 4.753): number {
  const c = 2 / (9 * k);
  return k * (1 - c + z * Math.sqrt(c)) ** 3;
}
const THRESHOLD_255 = chiSquareQuantile(255); // ≈ 377

function histogram(bytes: Uint8Array, position?: number, stride = 8): Float64Array {
  const h = new Float64Array(256);
  if (position === undefined) for (const b of bytes) h[b]++;
  else for (let i = position; i < bytes.length; i += stride) h[bytes[i]!]++;
  return h;
}

/** Goodness of fit of byte counts to the uniform distribution (255 degrees of freedom). */
function chiSquareUniform(h: Float64Array): number {
  const n = h.reduce((a, b) => a + b, 0);
  const expected = n / 256;
  return h.reduce((acc, o) => acc + (o - expected) ** 2 / expected, 0);
}

/** Homogeneity of two byte histograms of equal totals (255 degrees of freedom). */
function chiSquareTwoSample(a: Float64Array, b: Float64Array): number {
  let stat = 0;
  for (let i = 0; i < 256; i++) if (a[i]! + b[i]! > 0) stat += (a[i]! - b[i]!) ** 2 / (a[i]! + b[i]!);
  return stat;
}

/** The worst statistic over all bytes and each of the 8 byte positions of a 64-bit word. */
function worstUniform(bytes: Uint8Array): number {
  return Math.max(
    chiSquareUniform(histogram(bytes)),
    ...Array.from({ length: 8 }, (_, p) => chiSquareUniform(histogram(bytes, p))),
  );
}

function worstTwoSample(a: Uint8Array, b: Uint8Array): number {
  return Math.max(
    chiSquareTwoSample(histogram(a), histogram(b)),
    ...Array.from({ length: 8 }, (_, p) => chiSquareTwoSample(histogram(a, p), histogram(b, p))),
  );
}

const bytesOf = (t: ring.RingTensor) => new Uint8Array(ring.toBytes(t));

// ---------------------------------------------------------------------------
// Fixture: a fresh hook and network per test, so traffic counts start at zero.

let hook: sy.Hook;
let bob: sy.VirtualWorker;
let charlie: sy.VirtualWorker;
let dan: sy.VirtualWorker;
let alice: sy.VirtualWorker;

beforeEach(() => {
  hook = sy.hook(tf);
  [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id })) as [
    sy.VirtualWorker,
    sy.VirtualWorker,
    sy.VirtualWorker,
    sy.VirtualWorker,
  ];
});

const idOf = (x: sy.FixedPrecisionTensor) => (x.child as AdditiveSharingTensor).id;

async function shareOf(worker: sy.WorkerHandle, x: sy.FixedPrecisionTensor): Promise<ring.RingTensor> {
  const stored = await worker.fetch(idOf(x), { remove: false });
  if (stored.kind !== "share") throw new Error(`expected a share on ${worker.id}`);
  return stored.value;
}

const N = 8192; // 64 KiB of share bytes per tensor: 256 expected per byte value, 32 per value per byte position

describe("shares are uniform", () => {
  it(`every holder's share bytes pass a chi-square test of uniformity (threshold ${THRESHOLD_255.toFixed(0)}, p = 1e-6)`, async () => {
    const rng = new Rng(1);
    const secrets = {
      constant: tf.fill([N], 1.5),
      zeros: tf.zeros([N]),
      random: tf.tensor(Array.from({ length: N }, () => (rng.next() - 0.5) * 200)),
    };
    for (const [name, secret] of Object.entries(secrets)) {
      const x = secret.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
      for (const holder of [bob, charlie]) {
        const stat = worstUniform(bytesOf(await shareOf(holder, x)));
        expect(stat, `${name} on ${holder.id}`).toBeLessThan(THRESHOLD_255);
      }
    }
    // The test has power: the encodings themselves (high bytes 0x00/0xff) fail it by far.
    const enc = encode(secrets.random.dataSync(), [N], encoding());
    expect(worstUniform(bytesOf(enc))).toBeGreaterThan(100 * THRESHOLD_255);
  });

  it("results of secure ops are uniformly shared too (relu; mul after local truncation)", async () => {
    const x = tf.linspace(-4, 4, N).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const r = x.relu();
    for (const holder of [bob, charlie]) {
      expect(worstUniform(bytesOf(await shareOf(holder, r))), `relu on ${holder.id}`).toBeLessThan(THRESHOLD_255);
    }
    // Local truncation (SecureML) shifts each share by 16 bits: a share is then uniform on its
    // low 48 bits and sign-extended above, a function of the holder's own uniform share only.
    const m = x.mul(x);
    for (const holder of [bob, charlie]) {
      const share = await shareOf(holder, m);
      const bytes = bytesOf(share);
      const low = Math.max(...[0, 1, 2, 3, 4, 5].map((p) => chiSquareUniform(histogram(bytes, p))));
      expect(low, `mul on ${holder.id}, low 48 bits`).toBeLessThan(THRESHOLD_255);
      const signExtended = Array.from(share.data).every((v) => BigInt.asIntN(48, v) === v);
      expect(signExtended, `mul on ${holder.id}, top 16 bits`).toBe(true);
    }
  });
});

describe("one holder's view does not depend on the secret", () => {
  it("shares of two different secrets are indistinguishable (two-sample chi-square, p = 1e-6)", async () => {
    const rng = new Rng(2);
    const a = tf.zeros([N]);
    const b = tf.tensor(Array.from({ length: N }, () => Math.fround((rng.next() - 0.5) * 2 ** 40)));
    const [xa, xb] = [a, b].map((t) => t.fixPrecision().share(bob, charlie, { cryptoProvider: dan })) as [
      sy.FixedPrecisionTensor,
      sy.FixedPrecisionTensor,
    ];
    for (const holder of [bob, charlie]) {
      const stat = worstTwoSample(bytesOf(await shareOf(holder, xa)), bytesOf(await shareOf(holder, xb)));
      expect(stat, holder.id).toBeLessThan(THRESHOLD_255);
    }
    // With three holders, each holder's view is just as independent of the secret.
    const [ya, yb] = [a, b].map((t) => t.fixPrecision().share(alice, bob, charlie)) as [
      sy.FixedPrecisionTensor,
      sy.FixedPrecisionTensor,
    ];
    for (const holder of [alice, bob, charlie]) {
      expect(
        worstTwoSample(bytesOf(await shareOf(holder, ya)), bytesOf(await shareOf(holder, yb))),
        `3 holders, ${holder.id}`,
      ).toBeLessThan(THRESHOLD_255);
    }
    // The test has power: the two encodings are told apart at once.
    const enc = encoding();
    expect(
      worstTwoSample(bytesOf(encode(a.dataSync(), [N], enc)), bytesOf(encode(b.dataSync(), [N], enc))),
    ).toBeGreaterThan(100 * THRESHOLD_255);
  });

  it("sharing the same secret twice gives unrelated shares", async () => {
    const secret = tf.fill([N], -3.25);
    const [x1, x2] = [0, 1].map(() => secret.fixPrecision().share(bob, charlie, { cryptoProvider: dan })) as [
      sy.FixedPrecisionTensor,
      sy.FixedPrecisionTensor,
    ];
    const [s1, s2] = [await shareOf(bob, x1), await shareOf(bob, x2)];
    // The difference of two independent uniform shares is uniform again.
    expect(worstUniform(bytesOf(ring.sub(s1, s2)))).toBeLessThan(THRESHOLD_255);
  });
});

describe.each(COMPARISON_PROTOCOLS)(
  "no message carries a secret (tap on the in-process network), comparison %s",
  (comparison) => {
    /** Runs a case's body with this comparison protocol configured, so every command carries it. */
    const under = (fn: () => Promise<void>) => () => sy.withConfig({ comparison }, fn);

    /** Values in ±[0.5, 8) with random low bits: every encoding has >= 3 significant, unpredictable bytes. */
    function distinctive(rng: Rng, shape: number[]): tf.Tensor {
      const n = shape.reduce((a, b) => a * b, 1);
      return tf.tensor(
        Array.from({ length: n }, () => {
          const magnitude = Math.round((0.5 + rng.next() * 7.5) * 2 ** 16) / 2 ** 16;
          return rng.next() < 0.5 ? -magnitude : magnitude;
        }),
        shape,
      );
    }

    /** Little-endian 8-byte patterns of the encodings, as unsigned bigints for lookup at any byte offset. */
    function patterns(t: ring.RingTensor): Set<bigint> {
      return new Set(Array.from(t.data, (v) => BigInt.asUintN(64, v)));
    }

    /** Offsets (at any alignment) where `bytes` holds one of `secrets`. */
    function findSecrets(bytes: Uint8Array, secrets: Set<bigint>): number[] {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const hits: number[] = [];
      for (let at = 0; at + 8 <= bytes.byteLength; at++) if (secrets.has(view.getBigUint64(at, true))) hits.push(at);
      return hits;
    }

    it(
      "a secure matmul then relu: no request, reply or peer frame contains an encoded input, weight or product",
      under(async () => {
        const rng = new Rng(3);
        const x = distinctive(rng, [8, 64]);
        const w = distinctive(rng, [64, 32]);
        const enc = encoding();
        const xEnc = encode(x.dataSync(), x.shape, enc);
        const wEnc = encode(w.dataSync(), w.shape, enc);
        // The plaintext product at scale 2^32 (before truncation) and after it (within 1 ulp either way).
        const productWide = ring.matmul(xEnc, wEnc);
        const product = ring.shr(productWide, 16);
        const secrets = new Set([
          ...patterns(xEnc),
          ...patterns(wEnc),
          ...patterns(productWide),
          ...patterns(product),
          ...patterns(ring.addScalar(product, 1n)),
          ...patterns(ring.addScalar(product, -1n)),
        ]);

        const events: sy.TapEvent[] = [];
        const untap = bob.network.tap((e) => events.push({ ...e, bytes: e.bytes.slice() }));
        const xs = x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
        const ws = w.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
        const y = xs.matmul(ws).relu();
        const got = (await y.get()).floatPrecision();
        untap();

        // The computation is right (so the traffic observed is that of a real run).
        const want = tf.relu(tf.matMul(x, w));
        const diff = tf.max(tf.abs(tf.sub(got, want))).dataSync()[0]!;
        expect(diff).toBeLessThan(1e-3);

        expect(events.filter((e) => e.channel === "peer").length).toBeGreaterThan(0);
        const totalBytes = events.reduce((n, e) => n + e.bytes.byteLength, 0);
        expect(totalBytes).toBeGreaterThan(8 * (x.size + w.size) * 2);
        for (const e of events) {
          const hits = findSecrets(e.bytes, secrets);
          expect(hits, `${e.channel} ${e.from} -> ${e.to} (${e.bytes.byteLength} bytes)`).toEqual([]);
        }

        // The client's store requests carry shares, and every share element differs from the encoding.
        const stores = events
          .filter((e) => e.channel === "request")
          .map((e) => ({ to: e.to, request: decodeRequest(e.bytes) }))
          .filter((r) => r.request.t === "store");
        for (const [secret, id] of [
          [xEnc, idOf(xs)],
          [wEnc, idOf(ws)],
        ] as const) {
          const sent = stores.filter((s) => s.request.t === "store" && s.request.id === id);
          expect(sent.map((s) => s.to).sort()).toEqual(["bob", "charlie"]);
          for (const s of sent) {
            const value = (s.request as { value: sy.StoredValue }).value;
            expect(value.kind).toBe("share");
            const share = value.value as ring.RingTensor;
            const equalAt = Array.from(share.data).findIndex((v, i) => v === secret.data[i]);
            expect(equalAt, `share to ${s.to} equals the encoding at some element`).toBe(-1);
          }
        }
      }),
    );

    it(
      "the crypto provider receives no share of any input: only tensor-free requests, and holds no objects",
      under(async () => {
        const rng = new Rng(4);
        const x = distinctive(rng, [4, 16]);
        const w = distinctive(rng, [16, 8]);
        const events: sy.TapEvent[] = [];
        const untap = bob.network.tap((e) => events.push({ ...e, bytes: e.bytes.slice() }));
        const xs = x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
        const ws = w.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
        await xs.matmul(ws).relu().mul(2.5).get();
        await (sy.F.argmax(xs.matmul(ws), 1) as sy.FixedPrecisionTensor).get();
        untap();

        const toDan = events.filter((e) => e.to === "dan");
        expect(toDan.length).toBeGreaterThan(0);
        expect(
          toDan.every((e) => e.channel === "peer"),
          "the client sends the crypto provider nothing",
        ).toBe(true);
        for (const e of toDan) {
          const frame = decodeFrame(e.bytes);
          expect(frame.kind).toBe("request");
          expect(frame.tensors, `frame from ${e.from}`).toEqual([]);
          // A request names only the kind and shapes of the material it needs.
          const meta = frame.meta as { type: string; spec?: { kind: string } };
          expect(["key", "material"]).toContain(meta.type);
          expect(e.bytes.byteLength, "a request is small").toBeLessThan(512);
        }
        expect(await dan.listObjects()).toEqual([]);
        expect(dan.objects.count).toBe(0);
      }),
    );

    // Under fss, holder 0 also receives DCF correction words (see the fss view test below and op-facts).
    it.skipIf(comparison === "fss")(
      "holder 0 receives nothing from the dealer but one 16-byte key; the last holder gets the corrections",
      async () => {
        const rng = new Rng(5);
        const x = distinctive(rng, [16, 16]);
        const events: sy.TapEvent[] = [];
        const untap = bob.network.tap((e) => events.push({ ...e, bytes: e.bytes.slice() }));
        const xs = x.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
        await xs.matmul(xs).relu().mul(xs).get();
        await xs.lt(0).get();
        untap();

        const fromDan = (to: string) => events.filter((e) => e.from === "dan" && e.to === to);
        const toBob = fromDan("bob");
        expect(toBob).toHaveLength(1);
        const keyFrame = decodeFrame(toBob[0]!.bytes);
        expect(keyFrame.kind).toBe("reply");
        expect(keyFrame.tensors).toEqual([]);
        const key = (keyFrame.meta as { key: Uint8Array }).key;
        expect(key).toBeInstanceOf(Uint8Array);
        expect(key.byteLength).toBe(16);
        // The key and the dealer's key epoch (16 hex characters, issue 10) and nothing else.
        expect(Object.keys(keyFrame.meta as object).sort()).toEqual(["epoch", "key"]);
        expect(toBob[0]!.bytes.byteLength).toBeLessThan(100);

        const toCharlie = fromDan("charlie");
        const corrections = toCharlie.map((e) => decodeFrame(e.bytes)).filter((f) => f.tensors.length > 0);
        expect(corrections.length).toBeGreaterThan(5);
        const elements = corrections.reduce((n, f) => n + f.tensors.reduce((m, t) => m + t.size, 0), 0);
        // matmul 256 + relu (ltz 14·256 + beaver 256) + mul 256 + lt 14·256 = 31·256: the c's and random bits only.
        expect(elements).toBe(31 * 256);
      },
    );
  },
);

describe("one holder's view of the fss comparison does not depend on the secret", () => {
  /** What `viewer` receives from each other party while the holders compute x < 0 under fss. */
  async function viewOf(viewer: sy.VirtualWorker, secret: tf.Tensor): Promise<Map<string, Uint8Array>> {
    const events: sy.TapEvent[] = [];
    const x = secret.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
    const untap = bob.network.tap((e) => events.push({ ...e, bytes: e.bytes.slice() }));
    const got = await sy.withConfig({ comparison: "fss" }, () => x.lt(0).get());
    untap();
    const want = Array.from(secret.dataSync(), (v) => (v < 0 ? 1 : 0));
    expect(Array.from(got.floatPrecision().dataSync())).toEqual(want);
    const bySender = new Map<string, Uint8Array[]>();
    for (const e of events.filter((e) => e.channel === "peer" && e.to === viewer.id)) {
      for (const t of decodeFrame(e.bytes).tensors) bySender.set(e.from, [...(bySender.get(e.from) ?? []), bytesOf(t)]);
    }
    return new Map([...bySender].map(([from, parts]) => [from, Buffer.concat(parts)]));
  }

  it("the opened masked value is uniform, and the peer's and the dealer's messages are alike for two secrets", async () => {
    const rng = new Rng(6);
    const zeros = tf.zeros([N]);
    const wide = tf.tensor(Array.from({ length: N }, () => Math.fround((rng.next() - 0.5) * 2 ** 40)));
    for (const viewer of [bob, charlie]) {
      const peer = viewer === bob ? "charlie" : "bob";
      const [a, b] = [await viewOf(viewer, zeros), await viewOf(viewer, wide)];
      // The peer sends one word per element: its share plus its share of the mask, uniform whatever x is.
      expect(a.get(peer)!.byteLength).toBe(8 * N);
      expect(worstUniform(a.get(peer)!), `${peer} -> ${viewer.id}, x = 0`).toBeLessThan(THRESHOLD_255);
      expect(worstUniform(b.get(peer)!), `${peer} -> ${viewer.id}, wide x`).toBeLessThan(THRESHOLD_255);
      expect(worstTwoSample(a.get(peer)!, b.get(peer)!), `${peer} -> ${viewer.id}`).toBeLessThan(THRESHOLD_255);
      // The dealer's DCF words (dealt before x is known) look the same for either secret.
      const dealt = [a.get("dan")!, b.get("dan")!];
      expect(dealt[0]!.byteLength).toBe(dealt[1]!.byteLength);
      // 192 correction words per element to each holder, and the last holder's share of the mask's top bit.
      expect(dealt[0]!.byteLength).toBe(8 * (viewer === bob ? 192 : 193) * N);
      expect(worstTwoSample(dealt[0]!, dealt[1]!), `dan -> ${viewer.id}`).toBeLessThan(THRESHOLD_255);
    }
  });
});
