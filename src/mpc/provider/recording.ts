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
import {
  beaverOutputShape,
  type BinaryTripleShare,
  type MaterialSource,
  type MaterialSpec,
  type RandomBitsShare,
  type TripleShare,
} from "./provider";

/** One piece of material, by tag suffix within its run's scope. */
export interface RecordedMaterial {
  suffix: string;
  spec: MaterialSpec;
}

/** Answers every request with zeros of the right shapes and records it. */
export class RecordingMaterialSource implements MaterialSource {
  readonly recorded: RecordedMaterial[] = [];

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
}

/** A communicator whose peers answer every message with zeros of the same shapes. */
export class EchoCommunicator implements Communicator {
  private readonly sent = new Map<string, ring.RingTensor[]>();

  constructor(readonly self: string) {}

  send(_to: string, frame: OutgoingFrame): void {
    this.sent.set(frame.tag, frame.tensors);
  }

  async recv(from: string, tag: string): Promise<PeerFrame> {
    const mine = this.sent.get(tag) ?? [];
    return { kind: "data", from, tag, tensors: mine.map((t) => ring.zeros(t.shape)) };
  }
}
