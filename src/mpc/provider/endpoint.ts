/**
 * What a worker holds of the crypto providers, so that the worker itself only
 * passes messages: the holder side of every sharing group it is in (material
 * and the opened masks of fixed operands), the provider side of every kind
 * that has one (answering holders when it is their `cryptoProvider`), the
 * offline phase (dry runs, cached, then `preload`), and what to forget when a
 * provider or a co-holder restarts.
 *
 * Key epochs: material and opened masks are tied to the provider's key epoch
 * (a trusted dealer keeps its keys in memory, so each start is a new epoch).
 * Holders compare epochs in every open (context.ts); when theirs differ, both
 * see it at the same tag, drop their session, re-key, and run again once
 * under a new scope (`run`). A holder that restarts has no cache, and its
 * peers drop theirs for the sharing groups it is in when it links again
 * (`forgetPeer`), so opened masks are exchanged afresh by both or by neither.
 *
 * A command names its provider's kind (config `cryptoProvider`, read where it
 * was sent), so every holder of a run gets its material the same way; a kind
 * this worker does not know is refused with TSYFT_ERR_MALFORMED_MESSAGE.
 */
import { createHash } from "node:crypto";
import { encodeMessage } from "../../core/codec";
import {
  COMPARISONS,
  isComparisonSetting,
  isProviderKind,
  PROVIDER_KINDS,
  presets,
  type ComparisonSetting,
  type ProviderKind,
} from "../../core/config";
import { ErrorCode, ProtocolError, TsyftError } from "../../core/errors";
import { scopeOf, type Communicator, type OutgoingFrame, type PeerFrame } from "../communicator";
import { DEFAULT_PROTOCOLS, PartyContext, type FixedOpening, type PartyStats, type ProtocolSettings } from "../context";
import { insecureSeeded } from "./insecure-seeded";
import type { CryptoProvider, MaterialSource, ProviderRequest, ProviderServer } from "./provider";
import { LearningSource } from "./learning";
import { recordMaterial, type RecordedMaterial } from "./recording";
import { trustedDealer } from "./trusted-dealer";

/** Every kind by name; a kind in PROVIDER_KINDS without an implementation here is a compile error. */
const byKind: { readonly [K in ProviderKind]: CryptoProvider<K> } = {
  "trusted-dealer": trustedDealer,
  "insecure-seeded": insecureSeeded,
};

/** What a command on shares says about its sharing. */
export interface Sharing {
  holders: readonly string[];
  /** The crypto provider worker; none for a sharing without one (linear ops only). */
  provider?: string;
  /** How it deals; absent means the default kind (so commands built without it keep working). */
  providerKind?: ProviderKind;
  /** How the run compares (config `comparison`); absent means "kogge-stone". */
  comparison?: ComparisonSetting;
  /** Bits the "fss" comparison reads (config `fssBits`); absent means 64. */
  fssBits?: number;
}

type ProvidedSharing = Sharing & { provider: string };

/** What a holder keeps per (kind, provider worker, holders): see `sessionKey`. */
interface Session {
  provider: string;
  holders: readonly string[];
  /** The holder side; dropped when the provider restarts (its keys are new). */
  source?: MaterialSource;
  /**
   * Opened masked values of fixed operands (weights), by key epoch and mask
   * tag (see PartyContext.openFixed); dropped when a co-holder restarts (it
   * lost its copy, so both must open them again; the link's loss already
   * failed any exchange with it that was under way).
   */
  openedMasks: Map<string, Promise<FixedOpening>>;
}

/** A computation the offline phase can dry-run. */
export interface DryRun {
  /** Everything that decides what material one run needs (IR, shapes, sharing...): its hash keys the cache. */
  identity: unknown;
  /** Runs the computation once on `ctx` (on zeros: the protocols are data-oblivious). */
  run(ctx: PartyContext): Promise<unknown>;
}

/** The kind of provider `value` names, from a command or a request; refuses one this worker does not know. */
function providerKindOf(value: unknown): ProviderKind {
  if (value === undefined) return presets.default.cryptoProvider;
  if (isProviderKind(value)) return value;
  throw new ProtocolError(
    ErrorCode.MALFORMED_MESSAGE,
    `Unknown crypto provider kind ${JSON.stringify(value)}: expected ${PROVIDER_KINDS.map((k) => `"${k}"`).join(" or ")}. ` +
      "Run the same tsyft version on the client and the workers.",
    { providerKind: value },
  );
}

/**
 * A worker's crypto-provider state.
 *
 * @example
 * ```ts
 * const providers = new ProviderEndpoint(worker.comm);
 * const ctx = providers.context({ holders: ["bob", "charlie"], provider: "dan" }, "op-1", stats);
 * ```
 */
export class ProviderEndpoint {
  private readonly servers = new Map<ProviderKind, ProviderServer>();
  private readonly sessions = new Map<string, Session>();
  /** What one run of a computation needs, by the hash of its identity (from dry runs, or learned from a run). */
  private readonly perRun = new Map<string, RecordedMaterial[]>();

  constructor(private readonly comm: Communicator) {
    for (const provider of Object.values(byKind)) {
      const server = provider.server?.();
      if (server) this.servers.set(provider.kind, server);
    }
  }

  /** This holder's context for one protocol run: its links, its provider's material, its counters. */
  context(
    sharing: Sharing,
    scope: string,
    stats: PartyStats,
    wrap?: (source: MaterialSource) => MaterialSource,
  ): PartyContext {
    const protocols = protocolsOf(sharing);
    if (!sharing.provider) {
      return new PartyContext(this.comm, sharing.holders, scope, undefined, undefined, stats, undefined, protocols);
    }
    const { source, openedMasks } = this.session({ ...sharing, provider: sharing.provider });
    const material = wrap ? wrap(source) : source;
    return new PartyContext(
      this.comm,
      sharing.holders,
      scope,
      material,
      sharing.provider,
      stats,
      openedMasks,
      protocols,
    );
  }

  /**
   * Runs one protocol run under `scope`. If the holders' material turns out to
   * be of two key epochs of the provider (it restarted between their key
   * requests), every holder sees it at the same open: each drops its session,
   * re-keys, and runs once more under `rekeyScope(scope)`. A second mismatch
   * (the provider restarted again meanwhile) is the caller's typed error.
   *
   * With `identity` (what decides the material of a run, as for `preprocess`),
   * the first run of that identity learns what it asks the provider for
   * (learning.ts), and later runs have all of it streamed from their start.
   */
  async run<T>(
    sharing: Sharing,
    scope: string,
    stats: PartyStats,
    fn: (ctx: PartyContext) => Promise<T>,
    identity?: unknown,
  ): Promise<T> {
    const learnAs = identity !== undefined && this.streams(sharing) ? identityKey(identity) : undefined;
    try {
      return await this.attempt(sharing, scope, stats, fn, learnAs);
    } catch (error) {
      if (!sharing.provider || !isEpochMismatch(error)) throw error;
      // Whatever the stage, this holder's material is stale: the next run re-keys.
      this.forgetProvider(sharing.provider);
      // Only a mismatch seen at an open is seen by every holder at once: only then do all retry together.
      if (error.details.stage !== "exchange") throw error;
      return this.attempt(sharing, rekeyScope(scope), stats, fn, learnAs);
    }
  }

  /** One try of `run`: streaming what a run of `learnAs` is known to need, or learning it. */
  private async attempt<T>(
    sharing: Sharing,
    scope: string,
    stats: PartyStats,
    fn: (ctx: PartyContext) => Promise<T>,
    learnAs: string | undefined,
  ): Promise<T> {
    if (learnAs === undefined) return fn(this.context(sharing, scope, stats));
    const perRun = this.perRun.get(learnAs);
    if (!perRun) {
      let learning: LearningSource | undefined;
      const ctx = this.context(sharing, scope, stats, (source) => (learning = new LearningSource(source, scope)));
      const result = await fn(ctx);
      if (learning) this.perRun.set(learnAs, learning.recorded);
      return result;
    }
    const ctx = this.context(sharing, scope, stats);
    const source = ctx.material;
    source.prefetch?.(perRun.map((r) => ({ tag: `${scope}${r.suffix}`, spec: r.spec })));
    try {
      return await fn(ctx);
    } finally {
      source.release?.(scope);
    }
  }

  /** Whether runs of this sharing stream their material: a provider that deals, and its holder side can prefetch. */
  private streams(sharing: Sharing): sharing is ProvidedSharing {
    return sharing.provider !== undefined && byKind[providerKindOf(sharing.providerKind)].dealsAhead;
  }

  /**
   * Offline phase: learns by a dry run what material one run of `computation`
   * needs, then has the provider deal it for every run id. Resolves with the
   * number of pieces dealt (0 for a kind that deals nothing ahead of time,
   * which then does nothing at all).
   */
  async preprocess(sharing: ProvidedSharing, runIds: readonly string[], computation: DryRun): Promise<number> {
    if (!byKind[providerKindOf(sharing.providerKind)].dealsAhead) return 0;
    const perRun = await this.dryRun(sharing, computation);
    await this.session(sharing).source.preload(
      runIds.flatMap((runId) => perRun.map((r) => ({ tag: `${runId}${r.suffix}`, spec: r.spec }))),
    );
    return perRun.length * runIds.length;
  }

  /** What one run of `computation` needs, cached by the hash of its identity. */
  private async dryRun(sharing: ProvidedSharing, computation: DryRun): Promise<RecordedMaterial[]> {
    const key = identityKey(computation.identity);
    let perRun = this.perRun.get(key);
    if (!perRun) {
      // The dry run chooses its comparisons as the online runs will: same settings, same link latency.
      const live = this.context(sharing, "dry", { rounds: 0, bytesSent: 0, framesSent: 0 });
      perRun = await recordMaterial(this.comm.self, sharing.holders, sharing.provider, computation.run, {
        protocols: live.protocols,
        linkLatencyMs: live.linkLatencyMs,
      });
      this.perRun.set(key, perRun);
    }
    return perRun;
  }

  /** The provider side: the reply to a holder's request frame, or an abort of its scope if it cannot be served. */
  answer(frame: PeerFrame): OutgoingFrame {
    try {
      return this.serverFor(frame).answer(frame);
    } catch (error) {
      return this.refusal(frame, error);
    }
  }

  /**
   * The provider side, for every request: its replies, made one at a time as
   * the caller sends them (several for a holder's prefetch, else `answer`'s one).
   */
  replies(frame: PeerFrame): Iterable<OutgoingFrame> {
    try {
      const server = this.serverFor(frame);
      return server.answerStream?.(frame) ?? [server.answer(frame)];
    } catch (error) {
      return [this.refusal(frame, error)];
    }
  }

  private serverFor(frame: PeerFrame): ProviderServer {
    const kind = providerKindOf((frame.meta as Partial<ProviderRequest> | undefined)?.provider);
    const server = this.servers.get(kind);
    if (!server) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `${frame.from} sent a request for the ${kind} provider, which has no provider side: its holders need no messages.`,
      );
    }
    return server;
  }

  private refusal(frame: PeerFrame, error: unknown): OutgoingFrame {
    return {
      kind: "abort",
      tag: scopeOf(frame.tag),
      tensors: [],
      meta: `crypto provider ${this.comm.self}: ${(error as Error).message}`,
    };
  }

  /** The provider side of `kind` on this worker, if the kind has one (its stats are for tests and benchmarks). */
  server(kind: ProviderKind): ProviderServer | undefined {
    return this.servers.get(kind);
  }

  /**
   * A peer restarted: if it is a crypto provider, its keys are new, so its
   * holder sides start over; if it is a co-holder, it lost its opened masks,
   * so this holder drops its copies too (both open them again).
   */
  forgetPeer(peer: string): void {
    this.forgetProvider(peer);
    for (const session of this.sessions.values()) if (session.holders.includes(peer)) session.openedMasks.clear();
  }

  /**
   * Drops what came from `provider`'s keys: the next run asks for a key again.
   * Opened masks stay: they are keyed by epoch, so a new epoch opens its own,
   * and an exchange still under way in the same epoch (a re-keyed retry
   * meets it again) must not be started twice.
   */
  forgetProvider(provider: string): void {
    for (const session of this.sessions.values()) if (session.provider === provider) session.source = undefined;
  }

  /** The session of a sharing group, with its holder side (made once, so that the dealer's key is fetched once). */
  private session(sharing: ProvidedSharing): Session & { source: MaterialSource } {
    const kind = providerKindOf(sharing.providerKind);
    const key = sessionKey(kind, sharing.provider, sharing.holders);
    let session = this.sessions.get(key);
    if (!session) {
      session = { provider: sharing.provider, holders: [...sharing.holders], openedMasks: new Map() };
      this.sessions.set(key, session);
    }
    session.source ??= byKind[kind].holderSource(this.comm, sharing.provider, sharing.holders);
    return { ...session, source: session.source };
  }
}

/** The key of a computation's identity in the per-run caches. */
function identityKey(identity: unknown): string {
  return createHash("sha256").update(encodeMessage(identity)).digest("hex");
}

/** The protocol choices a command names, checked: a value this worker does not know is refused. */
function protocolsOf(sharing: Sharing): ProtocolSettings {
  const { comparison = DEFAULT_PROTOCOLS.comparison, fssBits = DEFAULT_PROTOCOLS.fssBits } = sharing;
  if (!isComparisonSetting(comparison) || !Number.isInteger(fssBits) || fssBits < 2 || fssBits > 64) {
    throw new ProtocolError(
      ErrorCode.MALFORMED_MESSAGE,
      `A command with comparison ${JSON.stringify(comparison)} and fssBits ${JSON.stringify(fssBits)}: expected ` +
        `${COMPARISONS.map((k) => `"${k}"`).join(", ")} and an integer from 2 to 64. Run the same tsyft version on the client and the workers.`,
      { comparison, fssBits },
    );
  }
  return { comparison, fssBits };
}

/**
 * What material and opened masks are bound to: a kind, its provider worker
 * and the holders. The key epoch is not part of it: it is known only once a
 * key arrives, and it is checked in every open and keys the opened masks.
 */
function sessionKey(kind: ProviderKind, provider: string, holders: readonly string[]): string {
  return `${kind}|${provider}|${holders.join(",")}`;
}

/**
 * The scope a run is retried under after both holders re-keyed.
 *
 * @example
 * ```ts
 * rekeyScope("run-17");   // "run-17~rekey"
 * ```
 */
export function rekeyScope(scope: string): string {
  return `${scope}~rekey`;
}

function isEpochMismatch(error: unknown): error is TsyftError {
  return error instanceof TsyftError && error.code === ErrorCode.PROVIDER_EPOCH;
}
