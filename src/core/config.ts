/**
 * One configuration object, with named presets and a scoped override.
 *
 * The scope follows async work (AsyncLocalStorage), so an override made around
 * an async function holds across its awaits and nowhere else.
 *
 * @example
 * ```ts
 * sy.configure(sy.presets.pysyft);                 // base 10, 3 fractional digits
 * await sy.withConfig({ validate: true }, async () => {
 *   const y = xSh.mul(xSh);                         // also checked against plaintext
 *   return (await y.get()).floatPrecision();
 * });
 * await sy.withConfig({ cryptoProvider: "insecure-seeded" }, () => xSh.mul(xSh).get()); // fast tests only
 * ```
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { ErrorCode, TsyftError } from "./errors";

/**
 * The kinds of crypto provider (CrypTen's `crypten.cfg.mpc.provider`), each
 * implemented under src/mpc/provider/:
 * - "trusted-dealer": the `cryptoProvider` worker deals the material (the default);
 * - "insecure-seeded": NOT SECURE, for fast tests: every holder derives all of
 *   the material from a public seed, with no messages (CrypTen's TFP).
 */
export const PROVIDER_KINDS = ["trusted-dealer", "insecure-seeded"] as const;

/** One of {@link PROVIDER_KINDS}. */
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

/** Whether `value` names a kind of crypto provider this library implements. */
export function isProviderKind(value: unknown): value is ProviderKind {
  return (PROVIDER_KINDS as readonly unknown[]).includes(value);
}

/**
 * How shares are compared (ltz, under every comparison, relu, max pooling and argmax):
 * - "kogge-stone": a binary adder circuit on the shares, 8 rounds, small material
 *   (mpc/protocols/ltz.ts);
 * - "fss": function secret sharing (AriaNN), 1 round, about 1.5 KB of dealer keys per
 *   element (mpc/protocols/ltz-fss.ts);
 * - "auto": per comparison, whichever the holders' link latency and the batch size make
 *   faster (mpc/comparison-choice.ts).
 */
export const COMPARISONS = ["kogge-stone", "fss", "auto"] as const;

/** One of {@link COMPARISONS}. */
export type ComparisonSetting = (typeof COMPARISONS)[number];

/** The comparison protocols a holder runs: the settings but "auto". */
export const COMPARISON_PROTOCOLS = ["kogge-stone", "fss"] as const satisfies readonly ComparisonSetting[];

/** A comparison protocol a holder runs: a setting with "auto" resolved. */
export type ComparisonProtocol = (typeof COMPARISON_PROTOCOLS)[number];

/** Whether `value` names a comparison setting. */
export function isComparisonSetting(value: unknown): value is ComparisonSetting {
  return (COMPARISONS as readonly unknown[]).includes(value);
}

export interface Config {
  /** Fixed-point base (2 gives exact truncation by shifts; 10 is PySyft 0.2's). */
  readonly base: number;
  /** Fractional digits in `base` (16 bits by default, as CrypTen). */
  readonly precisionFractional: number;
  /** Validation mode: each secure op also runs in plaintext and throws if they diverge. */
  readonly validate: boolean;
  /** Absolute tolerance of the validation mode, in decoded units. */
  readonly validateTolerance: number;
  /** Milliseconds any wait (a peer's message, a reply) may take before it fails. */
  readonly timeoutMs: number;
  /** Largest message a worker or node accepts, in bytes. */
  readonly maxMessageBytes: number;
  // Limits: each hit is a typed error (TSYFT_ERR_LIMIT naming the setting unless said otherwise) and the
  // server keeps serving; docs/limits.md has the table. The mailbox limits and partialFrameMs for HTTP are
  // taken when the worker or server is made, the others where they are checked.
  /**
   * Milliseconds a WebSocket message (or an HTTP request's headers and body) may take from its first
   * byte to its last; past it the server closes that socket and frees what it buffered.
   */
  readonly partialFrameMs: number;
  /** Frames one peer may have buffered for tags nobody waits for yet; past it the oldest are dropped. */
  readonly mailboxMaxFrames: number;
  /** Bytes one peer may have buffered for tags nobody waits for yet; past it the oldest are dropped. */
  readonly mailboxMaxBytes: number;
  /** Milliseconds a frame nobody waits for stays buffered before it is dropped. */
  readonly mailboxMaxAgeMs: number;
  /** Largest output of one op a worker computes (plain ops, secure ops), in elements, checked before computing. */
  readonly maxOpElements: number;
  /** Largest piece of correlated randomness a crypto provider deals, in ring elements (a, b and c together). */
  readonly maxDealerElements: number;
  /** Objects one client (principal) may hold on a node. */
  readonly maxObjectsPerClient: number;
  /** Deepest nesting of arrays and maps in a decoded message or JSON body (MALFORMED_MESSAGE past it). */
  readonly maxNestingDepth: number;
  /** Largest HTTP request body the gateway reads, in bytes (413 past it). */
  readonly maxHttpBodyBytes: number;
  /** Ring kernels: WebAssembly (fast) or the plain JS reference. */
  readonly ringKernels: "wasm" | "js";
  /**
   * How the `cryptoProvider` of a sharing gets its material to the holders,
   * read when an op or a plan run is sent (so it travels with the command and
   * every holder of that run uses the same kind). "insecure-seeded" is for tests only.
   */
  readonly cryptoProvider: ProviderKind;
  /**
   * The comparison protocol ({@link COMPARISONS}), read when an op or a plan run is
   * sent, so that it travels with the command and both holders run the same one.
   */
  readonly comparison: ComparisonSetting;
  /**
   * Bits the "fss" comparison reads, 2 to 64. At 64 (the default) it is exact for every
   * ring value. At k < 64 its keys (3k words per element) and its work (k - 1 tree levels) shrink, and it is exact
   * only for raw ring values in [-2^(k-1), 2^(k-1)) (decoded: |x| < 2^(k-1)/scale); a
   * value outside that range gets an arbitrary 0/1. Never lowered silently.
   */
  readonly fssBits: number;
}

export const presets = {
  /** CrypTen's defaults: ring Z_2^64, base 2, 16 fractional bits. */
  default: {
    base: 2,
    precisionFractional: 16,
    validate: false,
    validateTolerance: 1e-2,
    timeoutMs: 30_000,
    maxMessageBytes: 256 * 1024 * 1024,
    partialFrameMs: 20_000,
    mailboxMaxFrames: 4096,
    mailboxMaxBytes: 256 * 1024 * 1024,
    mailboxMaxAgeMs: 60_000,
    maxOpElements: 2 ** 25,
    maxDealerElements: 2 ** 24,
    maxObjectsPerClient: 100_000,
    maxNestingDepth: 64,
    maxHttpBodyBytes: 1024 * 1024,
    ringKernels: "wasm",
    cryptoProvider: "trusted-dealer",
    comparison: "kogge-stone",
    fssBits: 64,
  } satisfies Config,
  /** PySyft 0.2's encoding: base 10, 3 fractional digits. */
  pysyft: { base: 10, precisionFractional: 3 },
  /** For tests and notebooks: check every secure op against plaintext. */
  validating: { validate: true },
} as const;

/** The settings that bound what a server accepts (docs/limits.md), all positive integers. */
export const LIMIT_SETTINGS = [
  "partialFrameMs",
  "mailboxMaxFrames",
  "mailboxMaxBytes",
  "mailboxMaxAgeMs",
  "maxOpElements",
  "maxDealerElements",
  "maxObjectsPerClient",
  "maxNestingDepth",
  "maxHttpBodyBytes",
] as const satisfies ReadonlyArray<keyof Config>;

/** The name of one limit setting (`details.limit` of a TSYFT_ERR_LIMIT error). */
export type LimitSetting = (typeof LIMIT_SETTINGS)[number] | "maxMessageBytes";

let globalConfig: Config = { ...presets.default };
const scoped = new AsyncLocalStorage<Config>();

/** The configuration in force here (the innermost `withConfig` scope, else the global one). */
export function getConfig(): Config {
  return scoped.getStore() ?? globalConfig;
}

/** Changes the global configuration; returns the previous one. */
export function configure(overrides: Partial<Config>): Config {
  const previous = globalConfig;
  globalConfig = checkConfig({ ...globalConfig, ...overrides });
  return previous;
}

/**
 * Runs `fn` with `overrides` applied to the configuration, for `fn`'s
 * synchronous and asynchronous work alike; returns what `fn` returns.
 */
export function withConfig<T>(overrides: Partial<Config>, fn: () => T): T {
  return scoped.run(checkConfig({ ...getConfig(), ...overrides }), fn);
}

function checkConfig(config: Config): Config {
  const bad = (what: string, got: unknown) =>
    new TsyftError(ErrorCode.INVALID_ARGUMENT, `Config: expected ${what}, got ${JSON.stringify(got)}.`);
  if (!Number.isInteger(config.base) || config.base < 2) throw bad("an integer base >= 2", config.base);
  if (!Number.isInteger(config.precisionFractional) || config.precisionFractional < 0) {
    throw bad("a non-negative integer precisionFractional", config.precisionFractional);
  }
  if (Math.log2(config.base) * config.precisionFractional > 40) {
    throw bad("a scale base^precisionFractional of at most 2^40 (products need twice the bits)", {
      base: config.base,
      precisionFractional: config.precisionFractional,
    });
  }
  if (!(config.timeoutMs > 0)) throw bad("a positive timeoutMs", config.timeoutMs);
  if (!(config.maxMessageBytes > 0)) throw bad("a positive maxMessageBytes", config.maxMessageBytes);
  for (const limit of LIMIT_SETTINGS) {
    if (!Number.isInteger(config[limit]) || config[limit] <= 0) throw bad(`a positive integer ${limit}`, config[limit]);
  }
  if (config.ringKernels !== "wasm" && config.ringKernels !== "js")
    throw bad('ringKernels "wasm" or "js"', config.ringKernels);
  if (!isProviderKind(config.cryptoProvider))
    throw bad(`cryptoProvider ${PROVIDER_KINDS.map((k) => `"${k}"`).join(" or ")}`, config.cryptoProvider);
  if (!isComparisonSetting(config.comparison))
    throw bad(`comparison ${COMPARISONS.map((k) => `"${k}"`).join(", ")}`, config.comparison);
  if (!Number.isInteger(config.fssBits) || config.fssBits < 2 || config.fssBits > 64)
    throw bad("an integer fssBits from 2 to 64", config.fssBits);
  return config;
}
