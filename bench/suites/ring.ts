/**
 * Ring kernels: the WebAssembly kernels against the JS BigInt reference, each
 * next to TensorFlow.js float32 (wasm backend) on the same shapes. The float32
 * column is a yardstick, not a like-for-like: it computes 32-bit floats where
 * the ring computes exact 64-bit integers.
 */
import * as tf from "@tensorflow/tfjs";
import { withConfig } from "../../src/core/config";
import * as ring from "../../src/ring";
import { time, type BenchRow, type TimeOptions } from "../harness";

const SUITE = "ring";

async function useTfWasm(): Promise<string> {
  // Registers the wasm backend as a side effect.
  require("@tensorflow/tfjs-backend-wasm");
  await tf.setBackend("wasm");
  await tf.ready();
  return tf.getBackend();
}

function js<T>(fn: () => T): () => T {
  return () => withConfig({ ringKernels: "js" }, fn);
}

function wasm<T>(fn: () => T): () => T {
  return () => withConfig({ ringKernels: "wasm" }, fn);
}

/** Times a tf op and its read-back (the ring ops also copy their result out). */
function timeTf(make: () => tf.Tensor, options?: TimeOptions): number {
  return time(() => {
    const t = make();
    t.dataSync();
    t.dispose();
  }, options).median;
}

function row(name: string, jsMs: number, wasmMs: number, reference?: { op: string; ms: number }): BenchRow {
  const base: BenchRow = { suite: SUITE, name, js_ms: jsMs, wasm_ms: wasmMs, "speed-up": jsMs / wasmMs };
  if (reference === undefined) return { ...base, tfjs_op: "-" };
  return { ...base, tfjs_op: reference.op, tfjs_f32_ms: reference.ms, "wasm/tfjs": wasmMs / reference.ms };
}

export async function runRingSuite(): Promise<BenchRow[]> {
  const previousBackend = tf.getBackend();
  const backend = await useTfWasm();
  try {
    return measure(backend);
  } finally {
    // Leave TF.js as the next suite expects to find it.
    if (previousBackend && previousBackend !== backend) await tf.setBackend(previousBackend);
  }
}

function measure(backend: string): BenchRow[] {
  const rows: BenchRow[] = [];

  for (const n of [64, 128, 256]) {
    const a = ring.sample([n, n]);
    const b = ring.sample([n, n]);
    // The BigInt reference needs seconds at 256^3: time it once or twice.
    const slow: TimeOptions = n >= 256 ? { warmup: 0, minRuns: 1, minMs: 0 } : { warmup: 1, minRuns: 3, minMs: 500 };
    const jsMs = time(
      js(() => ring.matmul(a, b)),
      slow,
    ).median;
    const wasmMs = time(
      wasm(() => ring.matmul(a, b)),
      { warmup: 3, minRuns: 10, minMs: 300 },
    ).median;
    const fa = tf.randomUniform([n, n]);
    const fb = tf.randomUniform([n, n]);
    const tfMs = timeTf(() => tf.matMul(fa, fb), { warmup: 3, minRuns: 10, minMs: 300 });
    tf.dispose([fa, fb]);
    rows.push(row(`matmul ${n}x${n}x${n}`, jsMs, wasmMs, { op: `matMul (${backend})`, ms: tfMs }));
  }

  const n = 65_536;
  const x = ring.sample([n]);
  const y = ring.sample([n]);
  const fx = tf.randomUniform([n]);
  const fy = tf.randomUniform([n]);
  const bx = tf.greater(fx, 0.5);
  const by = tf.greater(fy, 0.5);
  const elementwise: [string, (p: ring.RingTensor, q: ring.RingTensor) => ring.RingTensor, string, () => tf.Tensor][] =
    [
      ["mul", ring.mul, "mul f32", () => tf.mul(fx, fy)],
      ["xor", ring.xor, "logicalXor bool", () => tf.logicalXor(bx, by)],
      ["and", ring.and, "logicalAnd bool", () => tf.logicalAnd(bx, by)],
      ["add", ring.add, "add f32", () => tf.add(fx, fy)],
    ];
  const quick: TimeOptions = { warmup: 5, minRuns: 20, minMs: 300 };
  for (const [name, op, tfOp, tfRun] of elementwise) {
    const jsMs = time(
      js(() => op(x, y)),
      { warmup: 1, minRuns: 5, minMs: 300 },
    ).median;
    const wasmMs = time(
      wasm(() => op(x, y)),
      quick,
    ).median;
    rows.push(row(`${name} ${n}`, jsMs, wasmMs, { op: tfOp, ms: timeTf(tfRun, quick) }));
  }
  const shifted = time(
    wasm(() => ring.shr(x, 16)),
    quick,
  ).median;
  rows.push(
    row(
      `shr 16 ${n}`,
      time(
        js(() => ring.shr(x, 16)),
        quick,
      ).median,
      shifted,
    ),
  );
  tf.dispose([fx, fy, bx, by]);

  const xs = ring.sample([1, 32, 32, 3]);
  const ws = ring.sample([5, 5, 3, 32]);
  const conv = () => ring.conv2d(xs, ws, { padding: "same" });
  const jsConv = time(js(conv), { warmup: 0, minRuns: 1, minMs: 0 }).median;
  const wasmConv = time(wasm(conv), { warmup: 3, minRuns: 10, minMs: 300 }).median;
  const tx = tf.randomUniform([1, 32, 32, 3]) as tf.Tensor4D;
  const tw = tf.randomUniform([5, 5, 3, 32]) as tf.Tensor4D;
  const tfConv = timeTf(() => tf.conv2d(tx, tw, 1, "same"), quick);
  tf.dispose([tx, tw]);
  rows.push(row("conv2d [1,32,32,3]x[5,5,3,32] same", jsConv, wasmConv, { op: `conv2d (${backend})`, ms: tfConv }));

  const fx2 = new Float64Array(n).map((_, i) => (i - n / 2) / 7);
  const encode = time(() => ring.fromFloat(fx2, [n], 2 ** 16), quick).median;
  const decodeInput = ring.fromFloat(fx2, [n], 2 ** 16);
  const decode = time(() => ring.toFloat(decodeInput, 2 ** 16), quick).median;
  // Encoding has one implementation, in JS (32-bit words, no BigInt per element).
  rows.push({ suite: SUITE, name: `fromFloat ${n}`, js_ms: encode, tfjs_op: "-" });
  rows.push({ suite: SUITE, name: `toFloat ${n}`, js_ms: decode, tfjs_op: "-" });
  return rows;
}
