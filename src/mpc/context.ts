/**
 * What a share holder knows while it runs a protocol: who the holders are,
 * its rank, its links to them, its crypto provider, and the op's scope from
 * which all message tags derive.
 *
 * Every holder runs the same protocol code (SPMD) and so derives the same
 * sequence of tags; `open` is the one communication step the protocols need.
 */
import type { ComparisonSetting } from "../core/config";
import { ErrorCode, ProtocolError } from "../core/errors";
import { waited } from "../core/profiler";
import { opsNeedingProvider, opsRunning, twoHolderProtocolNames, type TwoHolderProtocol } from "../core/ops";
import * as ring from "../ring";
import type { Communicator, PeerFrame } from "./communicator";
import type { MaterialSource } from "./provider/provider";

/**
 * What Beaver products need of a fixed operand (a weight), kept per key epoch:
 * its opened masked value, and this holder's mask plus (on holder 0) that
 * opened value, the one factor of the product's two local terms that does not
 * change from run to run (beaver.ts).
 */
export interface FixedOpening {
  opened: ring.RingTensor;
  maskPlusOpened: ring.RingTensor;
}

/** Traffic counters, per party, for benchmarks and tests. */
export interface PartyStats {
  rounds: number;
  bytesSent: number;
  framesSent: number;
}

/**
 * The protocols a run uses where there is a choice (config `comparison` and
 * `fssBits` where the command was sent): they travel with the command, so
 * every holder of a run makes the same choice.
 */
export interface ProtocolSettings {
  comparison: ComparisonSetting;
  fssBits: number;
}

/** What a run uses when its command names no choice (commands of older clients). */
export const DEFAULT_PROTOCOLS: ProtocolSettings = { comparison: "kogge-stone", fssBits: 64 };

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
    /** Opened masked values of fixed operands (weights), by key epoch and mask tag; see `openFixed`. */
    readonly openedMasks: Map<string, Promise<FixedOpening>> = new Map(),
    readonly protocols: ProtocolSettings = DEFAULT_PROTOCOLS,
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
      this.protocols,
    );
  }

  /**
   * The one-way latency of this holder's links to the other holders, the
   * largest of them (Communicator.linkLatencyMs; 0 where a link reports none).
   */
  get linkLatencyMs(): number {
    const others = this.holders.filter((h) => h !== this.comm.self);
    return Math.max(0, ...others.map((peer) => this.comm.linkLatencyMs?.(peer) ?? 0));
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
   * Refuses a peer's frame whose material came from another key epoch of the
   * provider than this holder's: combining them would give a wrong number.
   * Both holders see the same pair of epochs at the same tag, so both fail
   * here together (`stage: "exchange"`) and may both re-key and run again.
   */
  private checkEpoch(frame: PeerFrame, mine: string | undefined): void {
    const theirs = epochOf(frame);
    if (mine === undefined || theirs === undefined || mine === theirs) return;
    throw new ProtocolError(
      ErrorCode.PROVIDER_EPOCH,
      `${this.comm.self} has material of crypto provider ${this.provider}'s key epoch ${mine}, but ${frame.from} ` +
        `has epoch ${theirs}: ${this.provider} restarted since one of them got its key. Both re-key; run the query again.`,
      { provider: this.provider, epoch: mine, peerEpoch: theirs, stage: "exchange" },
    );
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
    this.stats.rounds++;
    return this.exchangeUnder(this.tag(label), values);
  }

  /**
   * The opened masked value of a fixed operand (a weight, see beaver.ts),
   * this holder's share of it being `value - mask`: exchanged once per key epoch
   * under a tag of its own, outside any run's scope, and kept. Every holder
   * sends its share exactly once, when the first of its runs needs it, and
   * every later or concurrent run awaits that one exchange: so holders agree
   * on what each run's frames carry whatever order their runs come in. A
   * failed exchange is forgotten, so a later run tries again. It overlaps the
   * run's own open, so it costs no extra round. The masked share is computed
   * only then: a weight-sized subtraction that later runs skip.
   */
  openFixed(maskTag: string, mask: ring.RingTensor, value: ring.RingTensor): Promise<FixedOpening> {
    const epoch = this.materialSource?.epoch ?? "none";
    const key = `${epoch}|${maskTag}`;
    let opened = this.openedMasks.get(key);
    if (!opened) {
      const masked = ring.sub(value, mask);
      const exchanged = this.exchangeUnder(`fixed~${epoch}/${maskTag}`, [masked]);
      opened = exchanged.then((frames) => {
        const sum = frames.reduce((acc, theirs) => ring.add(acc, theirs[0]!), masked);
        return { opened: sum, maskPlusOpened: this.isFirst ? ring.add(mask, sum) : mask };
      });
      this.openedMasks.set(key, opened);
      const mine = opened;
      mine.catch(() => this.openedMasks.get(key) === mine && this.openedMasks.delete(key));
    }
    return opened;
  }

  /**
   * Sends `values` under `tag` to every other holder and returns what each
   * sent. Frames carry this holder's provider key epoch once it is known, and
   * material of two epochs is refused before anything is combined.
   */
  private async exchangeUnder(tag: string, values: readonly ring.RingTensor[]): Promise<ring.RingTensor[][]> {
    const others = this.holders.filter((h) => h !== this.comm.self);
    const epoch = this.materialSource?.epoch;
    for (const peer of others) {
      this.comm.send(peer, {
        kind: "data",
        tag,
        tensors: [...values],
        ...(epoch !== undefined && { meta: { epoch } }),
      });
      this.stats.framesSent++;
      this.stats.bytesSent += values.reduce((n, v) => n + v.size * 8, 0);
    }
    const frames = await waited("open", Promise.all(others.map((peer) => this.comm.recv(peer, tag))));
    return frames.map((frame) => {
      this.checkEpoch(frame, epoch);
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

function epochOf(frame: PeerFrame): string | undefined {
  const epoch = (frame.meta as { epoch?: unknown } | undefined)?.epoch;
  return typeof epoch === "string" ? epoch : undefined;
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
