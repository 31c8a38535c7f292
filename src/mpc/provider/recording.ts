/**
 * Dry runs: what a protocol will ask its crypto provider for, found without
 * running it for real. MPC protocols are data-oblivious, so running one on
 * zeros, with a communicator that echoes zeros and a material source that
 * records each request, yields exactly the material a real run of the same
 * op on tensors of the same shapes needs, with the same tags. The dealer can
 * then deal it ahead of time (offline), and the online run talks only to the
 * other holders.
 */
import * as ring from "../../ring";
import type { Communicator, OutgoingFrame, PeerFrame } from "../communicator";
import { PartyContext, type ProtocolSettings } from "../context";
import type { Operand } from "../party-ops";
import {
  beaverOutputShape,
  type BinaryTripleShare,
  type DcfShare,
  type MaterialSource,
  type MaterialSpec,
  type RandomBitsShare,
  type TripleShare,
} from "./provider";

/**
 * What one run of a computation asks its crypto provider for: `run` is
 * called once, as holder `self`, with a context whose peers echo zeros and
 * whose material is recorded. The computation comes as a callback because
 * what it runs (a plan's interpreter) lives in layers above this one.
 *
 * @example
 * ```ts
 * const perRun = await recordMaterial("bob", ["bob", "charlie"], "dan", (ctx) => relu(ctx, ring.zeros([4])));
 * ```
 */
export async function recordMaterial(
  self: string,
  holders: readonly string[],
  provider: string,
  run: (ctx: PartyContext) => Promise<unknown>,
  /** The run's protocol choices and its holders' link latency, so that "auto" chooses as online. */
  choices: { protocols?: ProtocolSettings; linkLatencyMs?: number } = {},
): Promise<RecordedMaterial[]> {
  const scope = "dry";
  const recorder = new RecordingMaterialSource(scope);
  const comm = new EchoCommunicator(self, choices.linkLatencyMs ?? 0);
  await run(new PartyContext(comm, holders, scope, recorder, provider, undefined, undefined, choices.protocols));
  return recorder.recorded;
}

/**
 * Operands of zeros of these shapes for a dry run: shared unless `shared`
 * says otherwise, and fixed (a weight, see beaver.ts) where `fixedIds` names one.
 */
export function zeroOperands(
  shapes: readonly number[][],
  shared: readonly boolean[],
  fixedIds?: ReadonlyArray<string | null>,
): Operand[] {
  return shapes.map((s, i): Operand => {
    if (!(shared[i] ?? true)) return { shared: false, value: ring.zeros(s) };
    const fixed = fixedIds?.[i];
    return fixed ? { shared: true, value: ring.zeros(s), fixed } : { shared: true, value: ring.zeros(s) };
  });
}

/** One piece of material, by tag suffix within its run's scope. */
export interface RecordedMaterial {
  suffix: string;
  spec: MaterialSpec;
}

/** Answers every request with zeros of the right shapes and records it. */
class RecordingMaterialSource implements MaterialSource {
  readonly recorded: RecordedMaterial[] = [];
  /** Zeros come from no provider's keys: nothing to compare. */
  readonly epoch = undefined;

  constructor(private readonly scope: string) {}

  private record(tag: string, spec: MaterialSpec): void {
    this.recorded.push({ suffix: tag.slice(this.scope.length), spec });
  }

  async triple(tag: string, spec: Extract<MaterialSpec, { kind: "beaver" | "binaryTriple" }>): Promise<TripleShare> {
    this.record(tag, spec);
    if (spec.kind === "beaver") {
      return {
        a: ring.zeros(spec.xShape),
        b: ring.zeros(spec.yShape),
        c: Promise.resolve(ring.zeros(beaverOutputShape(spec.op, spec.xShape, spec.yShape))),
      };
    }
    return { a: ring.zeros(spec.shape), b: ring.zeros(spec.shape), c: Promise.resolve(ring.zeros(spec.shape)) };
  }

  async binaryTriple(tag: string, spec: Extract<MaterialSpec, { kind: "binaryTriple" }>): Promise<BinaryTripleShare> {
    this.record(tag, spec);
    const size = ring.shapes.size(spec.shape);
    return {
      triple: { a: ring.zeros([size]), b: ring.zeros([size]), c: ring.zeros([size]) },
      c: Promise.resolve(undefined),
    };
  }

  async randomBits(tag: string, shape: readonly number[]): Promise<RandomBitsShare> {
    this.record(tag, { kind: "randomBits", shape: [...shape] });
    return { binary: ring.zeros(shape), arithmetic: ring.zeros(shape) };
  }

  async dcf(tag: string, spec: Extract<MaterialSpec, { kind: "dcf" }>): Promise<DcfShare> {
    this.record(tag, spec);
    const n = ring.shapes.size(spec.shape);
    const levels = spec.bits - 1;
    const corrections: ring.DcfCorrections = {
      bits: levels,
      seeds: ring.zeros([levels, n, 2]),
      values: ring.zeros([levels, n]),
      flags: ring.zeros([2, n]),
      last: ring.zeros([n]),
    };
    return {
      mask: ring.zeros([n]),
      roots: new Uint8Array(16 * n),
      dealt: Promise.resolve({ corrections, topBit: ring.zeros([n]) }),
    };
  }

  /** A dry run has nothing to fetch ahead. */
  async preload(): Promise<void> {}
}

/** A communicator whose peers answer every message with zeros of the same shapes. */
class EchoCommunicator implements Communicator {
  private readonly sent = new Map<string, ring.RingTensor[]>();

  constructor(
    readonly self: string,
    private readonly latencyMs: number,
  ) {}

  linkLatencyMs(): number {
    return this.latencyMs;
  }

  send(_to: string, frame: OutgoingFrame): void {
    this.sent.set(frame.tag, frame.tensors);
  }

  async recv(from: string, tag: string): Promise<PeerFrame> {
    const mine = this.sent.get(tag) ?? [];
    return { kind: "data", from, tag, tensors: mine.map((t) => ring.zeros(t.shape)) };
  }
}
