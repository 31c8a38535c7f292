/**
 * What a share holder knows while it runs a protocol: who the holders are,
 * its rank, its links to them, its crypto provider, and the op's scope from
 * which all message tags derive.
 *
 * Every holder runs the same protocol code (SPMD) and so derives the same
 * sequence of tags; `open` is the one communication step the protocols need.
 */
import { ErrorCode, ProtocolError } from "../core/errors";
import { opsNeedingProvider, opsRunning, twoHolderProtocolNames, type TwoHolderProtocol } from "../core/ops";
import * as ring from "../ring";
import type { Communicator } from "./communicator";
import type { MaterialSource } from "./provider/provider";

/** Traffic counters, per party, for benchmarks and tests. */
export interface PartyStats {
  rounds: number;
  bytesSent: number;
  framesSent: number;
}

export class PartyContext {
  readonly rank: number;
  private counter = 0;

  constructor(
    readonly comm: Communicator,
    readonly holders: readonly string[],
    /** Tag prefix unique to this op run (contains no "/"). */
    readonly scope: string,
    private readonly materialSource: MaterialSource | undefined,
    readonly provider: string | undefined,
    readonly stats: PartyStats = { rounds: 0, bytesSent: 0, framesSent: 0 },
    /** Opened masked values of fixed operands (weights), by mask tag; see beaver.ts. */
    readonly openedMasks: Map<string, ring.RingTensor> = new Map(),
  ) {
    this.rank = holders.indexOf(comm.self);
    if (this.rank < 0) {
      throw new ProtocolError(
        ErrorCode.HOLDERS_MISMATCH,
        `${comm.self} is not among the share holders [${holders.join(", ")}].`,
      );
    }
  }

  get parties(): number {
    return this.holders.length;
  }

  get isFirst(): boolean {
    return this.rank === 0;
  }

  /** A fresh tag in this scope; identical on every holder that runs the same code. */
  tag(label: string): string {
    return `${this.scope}/${this.counter++}:${label}`;
  }

  /** A context for a nested run (a plan op) sharing links, provider and counters' uniqueness. */
  child(scope: string): PartyContext {
    return new PartyContext(
      this.comm,
      this.holders,
      scope,
      this.materialSource,
      this.provider,
      this.stats,
      this.openedMasks,
    );
  }

  get material(): MaterialSource {
    if (!this.materialSource) {
      throw new ProtocolError(
        ErrorCode.NO_CRYPTO_PROVIDER,
        `This op needs correlated randomness from a crypto provider (as ${opsNeedingProvider("always").join(", ")} ` +
          `do on shares, and ${opsNeedingProvider("whenBothShared").join(", ")} on two shared operands), ` +
          "but the tensor was shared without one. Share with share(bob, charlie, { cryptoProvider: dan }).",
      );
    }
    return this.materialSource;
  }

  /** Refuses a protocol written for exactly two holders (core/ops.ts names them) when there are more. */
  requireTwoHolders(protocol: TwoHolderProtocol): void {
    if (this.holders.length !== 2) {
      throw new ProtocolError(
        ErrorCode.UNSUPPORTED_PARTIES,
        `${twoHolderProtocolNames[protocol]}, run by ${opsRunning(protocol).join(", ")}, ` +
          `needs exactly 2 share holders (plus a crypto provider), got ${this.holders.length} ` +
          `[${this.holders.join(", ")}]. Linear ops (${opsRunning(null).join(", ")}) work for any number of holders; ` +
          "share among 2 for the rest.",
        { holders: [...this.holders] },
      );
    }
  }

  /**
   * Opens shared values in one round: sends this party's shares to every
   * other holder and combines all of them, by addition ("add") or XOR ("xor").
   */
  async open(values: readonly ring.RingTensor[], mode: "add" | "xor", label: string): Promise<ring.RingTensor[]> {
    const frames = await this.exchange(values, label);
    const combine = mode === "add" ? ring.add : ring.xor;
    return values.map((mine, i) => frames.reduce((acc, theirs) => combine(acc, theirs[i]!), mine));
  }

  /**
   * The communication step of `open`, for protocols that combine the shares
   * themselves (binary-and.ts fuses it into its arithmetic): sends this party's
   * values to every other holder in one round and returns what each of them
   * sent, checked to have the same count and shapes.
   */
  async exchange(values: readonly ring.RingTensor[], label: string): Promise<ring.RingTensor[][]> {
    const tag = this.tag(label);
    const others = this.holders.filter((h) => h !== this.comm.self);
    for (const peer of others) {
      this.comm.send(peer, { kind: "data", tag, tensors: [...values] });
      this.stats.framesSent++;
      this.stats.bytesSent += values.reduce((n, v) => n + v.size * 8, 0);
    }
    this.stats.rounds++;
    const frames = await Promise.all(others.map((peer) => this.comm.recv(peer, tag)));
    return frames.map((frame) => {
      const fits =
        frame.tensors.length === values.length &&
        values.every((mine, i) => sameShape(frame.tensors[i]!.shape, mine.shape));
      if (!fits) {
        throw new ProtocolError(
          ErrorCode.PROTOCOL_DESYNC,
          `${this.comm.self} opened "${tag}" expecting ${values.length} tensors of shapes ${values.map((v) => `[${v.shape}]`).join(" ")} ` +
            `but ${frame.from} sent ${frame.tensors.map((v) => `[${v.shape}]`).join(" ")}.`,
        );
      }
      return frame.tensors;
    });
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
