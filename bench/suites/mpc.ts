/**
 * Secure ops on VirtualWorkers (two share holders and a crypto provider, all in
 * this process, every message encoded to bytes and delivered through the
 * in-process network), each next to TensorFlow.js float32 on the wasm backend
 * on the same shapes in the same run.
 *
 * What is measured:
 * - `secure_ms`: median wall time of the op from submission until both holders
 *   hold their result share (a barrier request queued behind the op). The
 *   dealer answers on demand, so its work (PRG expansion of every share, the
 *   correction for the last holder) is inside this time: there is no separate
 *   offline phase yet.
 * - `secure_min_ms`: the fastest of those runs (the machine may be shared and noisy).
 * - `get_ms` (ReLU only): the same plus reconstruction on the client (`get()`).
 * - `us_per_elem`: secure_ms over the number of output elements (input elements
 *   for the elementwise ops).
 * - `proto_B_per_elem`: bytes of protocol payload each holder sends to the other
 *   (worker stats: ring elements x 8), per element.
 * - `wire_B_per_elem`: everything on the in-process network during the op, all
 *   parties together (both holders' frames with headers, dealer requests and
 *   corrections, client commands), per element.
 * - `dealer_B_per_elem`: the part of it the crypto provider sends (corrections to
 *   the last holder only), per element.
 * - `rounds`: communication rounds of one holder (worker stats).
 * - `tfjs_ms` and `x_plain`: the plaintext op on tf's wasm backend (result read
 *   back) and the ratio secure / plaintext.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import type { AdditiveSharingTensor } from "../../src/tensors/shared";
import { timeAsync, time, type TimeOptions } from "../harness";
import { virtualTrio } from "./trio";

const SUITE = "mpc";

type Row = Record<string, string | number>;

async function useTfWasm(): Promise<string> {
  // Registers the wasm backend as a side effect.
  require("@tensorflow/tfjs-backend-wasm");
  await tf.setBackend("wasm");
  await tf.ready();
  return tf.getBackend();
}

interface Parties {
  hook: sy.Hook;
  bob: sy.VirtualWorker;
  charlie: sy.VirtualWorker;
  dan: sy.VirtualWorker;
}

function parties(): Parties {
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = virtualTrio(hook);
  return { hook, bob, charlie, dan };
}

/** Waits until every holder has run everything submitted so far (a request queued behind it). */
async function barrier(p: Parties): Promise<void> {
  await Promise.all([p.bob.objectCount(), p.charlie.objectCount()]);
}

interface SecureCase {
  name: string;
  /** Elements the per-element columns divide by. */
  elements: number;
  /** Builds the shared inputs once. */
  inputs: () => sy.FixedPrecisionTensor[];
  op: (inputs: sy.FixedPrecisionTensor[]) => sy.TensorLike;
  /** The plaintext op on the same shapes. */
  plain: { label: string; make: () => tf.Tensor[]; run: (inputs: tf.Tensor[]) => tf.Tensor };
  withGet?: boolean;
  options?: TimeOptions;
}

async function measure(p: Parties, c: SecureCase): Promise<Row> {
  const inputs = c.inputs();
  await barrier(p);
  const runOnce = async () => {
    const y = c.op(inputs) as sy.FixedPrecisionTensor;
    await barrier(p);
    (y.child as AdditiveSharingTensor).release();
  };
  // Traffic and rounds of one run.
  await runOnce(); // warm-up (and the dealer key exchange)
  const party0 = { ...p.bob.stats.party };
  p.bob.network.resetStats();
  let dealerBytes = 0;
  const untap = p.bob.network.tap((e) => {
    if (e.from === p.dan.id) dealerBytes += e.bytes.byteLength;
  });
  await runOnce();
  untap();
  const rounds = p.bob.stats.party.rounds - party0.rounds;
  const protoBytes = p.bob.stats.party.bytesSent - party0.bytesSent;
  const wireBytes = p.bob.network.stats.bytes;

  const options = c.options ?? { warmup: 1, minRuns: 5, minMs: 1000, maxRuns: 50 };
  const secure = await timeAsync(runOnce, options);
  let getMs: number | undefined;
  if (c.withGet) {
    getMs = (
      await timeAsync(
        async () => (await (c.op(inputs) as sy.FixedPrecisionTensor).get()).floatPrecision().dispose(),
        options,
      )
    ).median;
  }
  for (const x of inputs) (x.child as AdditiveSharingTensor).release();

  const plainInputs = c.plain.make();
  const plain = time(
    () => {
      const out = c.plain.run(plainInputs);
      out.dataSync();
      out.dispose();
    },
    { warmup: 3, minRuns: 10, minMs: 300 },
  );
  tf.dispose(plainInputs);

  const row: Row = {
    suite: SUITE,
    name: c.name,
    elements: c.elements,
    secure_ms: secure.median,
    secure_min_ms: secure.min,
    us_per_elem: (secure.median * 1000) / c.elements,
    proto_B_per_elem: protoBytes / c.elements,
    wire_B_per_elem: wireBytes / c.elements,
    dealer_B_per_elem: dealerBytes / c.elements,
    rounds,
    tfjs_op: c.plain.label,
    tfjs_ms: plain.median,
    x_plain: secure.median / plain.median,
  };
  if (getMs !== undefined) row.get_ms = getMs;
  return row;
}

/** Small values: products stay far below 2^31 at 16 fractional bits, so truncation is safe. */
function small(shape: number[], scale = 0.5): tf.Tensor {
  return tf.tidy(() => tf.randomNormal(shape).mul(scale));
}

/**
 * Runs the MPC benchmarks; returns one row per case (see the file header for
 * the columns).
 *
 * @example
 * ```ts
 * const rows = await runMpcBench();
 * printTable("mpc", rows as BenchRow[]);
 * await runMpcBench({ only: /ReLU|ltz/ });   // some cases only
 * ```
 */
export async function runMpcBench(options: { only?: RegExp } = {}): Promise<Array<Record<string, string | number>>> {
  const backend = await useTfWasm();
  const p = parties();
  const share = (t: tf.Tensor) => {
    const s = t.fixPrecision().share(p.bob, p.charlie, { cryptoProvider: p.dan });
    t.dispose();
    return s;
  };
  const n = 65_536;
  const cases: SecureCase[] = [
    {
      name: `Beaver mul [${n}]`,
      elements: n,
      inputs: () => [share(small([n])), share(small([n]))],
      op: ([x, y]) => x!.mul(y!),
      plain: { label: `mul (${backend})`, make: () => [small([n]), small([n])], run: ([a, b]) => tf.mul(a!, b!) },
    },
    {
      name: "matmul 64x64 · 64x64",
      elements: 64 * 64,
      inputs: () => [share(small([64, 64])), share(small([64, 64]))],
      op: ([x, y]) => x!.matmul(y!),
      plain: {
        label: `matMul (${backend})`,
        make: () => [small([64, 64]), small([64, 64])],
        run: ([a, b]) => tf.matMul(a!, b!),
      },
    },
    {
      name: "matmul 1x784 · 784x500",
      elements: 500,
      inputs: () => [share(small([1, 784])), share(small([784, 500], 0.05))],
      op: ([x, w]) => x!.matmul(w!),
      plain: {
        label: `matMul (${backend})`,
        make: () => [small([1, 784]), small([784, 500], 0.05)],
        run: ([a, b]) => tf.matMul(a!, b!),
      },
    },
    {
      name: "conv2d [1,32,32,3] · [5,5,3,32] same",
      elements: 32 * 32 * 32,
      inputs: () => [share(small([1, 32, 32, 3])), share(small([5, 5, 3, 32], 0.1))],
      op: ([x, w]) => x!.conv2d(w!, { padding: "same" }),
      plain: {
        label: `conv2d (${backend})`,
        make: () => [small([1, 32, 32, 3]), small([5, 5, 3, 32], 0.1)],
        run: ([a, b]) => tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, "same"),
      },
    },
    {
      name: `ltz (x < 0) [${n}]`,
      elements: n,
      inputs: () => [share(small([n]))],
      op: ([x]) => x!.lt(0),
      plain: { label: `less (${backend})`, make: () => [small([n])], run: ([a]) => tf.less(a!, 0) },
    },
    {
      name: `ReLU [${n}]`,
      elements: n,
      inputs: () => [share(small([n]))],
      op: ([x]) => x!.relu(),
      plain: { label: `relu (${backend})`, make: () => [small([n])], run: ([a]) => tf.relu(a!) },
      withGet: true,
    },
    {
      name: "maxPool2d 2x2 [1,32,32,32]",
      elements: 16 * 16 * 32,
      inputs: () => [share(small([1, 32, 32, 32]))],
      op: ([x]) => x!.maxPool2d(2),
      plain: {
        label: `maxPool (${backend})`,
        make: () => [small([1, 32, 32, 32])],
        run: ([a]) => tf.maxPool(a as tf.Tensor4D, 2, 2, "valid"),
      },
    },
    {
      name: "argmax [16,10] axis 1",
      elements: 16,
      inputs: () => [share(small([16, 10]))],
      op: ([x]) => x!.argmax(1),
      plain: { label: `argMax (${backend})`, make: () => [small([16, 10])], run: ([a]) => tf.argMax(a!, 1) },
    },
  ];
  const rows: Row[] = [];
  for (const c of cases) if (!options.only || options.only.test(c.name)) rows.push(await measure(p, c));
  for (const w of [p.bob, p.charlie, p.dan]) w.close("bench done");
  return rows;
}
