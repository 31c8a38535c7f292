/**
 * Op names and their attributes: the vocabulary shared by tensors, protocols,
 * plans and workers. Plans record these names; protocols and plaintext kernels
 * are looked up by them in typed registries (never by building strings).
 */
import type { ComparisonProtocol } from "./config";

export const Op = {
  Add: "add",
  Sub: "sub",
  Neg: "neg",
  Mul: "mul",
  MatMul: "matmul",
  Conv2d: "conv2d",
  DepthwiseConv2d: "depthwiseConv2d",
  Sum: "sum",
  Mean: "mean",
  Reshape: "reshape",
  Transpose: "transpose",
  Slice: "slice",
  Concat: "concat",
  Div: "div",
  Lt: "lt",
  Gt: "gt",
  Le: "le",
  Ge: "ge",
  Eq: "eq",
  Relu: "relu",
  MaxPool2d: "maxPool2d",
  AvgPool2d: "avgPool2d",
  ArgMax: "argmax",
  Copy: "copy",
} as const;

export type OpName = (typeof Op)[keyof typeof Op];

export const allOps: readonly OpName[] = Object.values(Op);

export function isOpName(name: unknown): name is OpName {
  return typeof name === "string" && (allOps as readonly string[]).includes(name);
}

/** Padding of a sliding window, with TensorFlow's meaning. */
export type Padding = "same" | "valid";

/**
 * conv2d's options as a user gives them, with TensorFlow.js's meaning (NHWC input, HWIO filter);
 * padding defaults to "valid".
 */
export interface Conv2dOptions {
  strides?: number | [number, number];
  padding?: Padding;
  dilations?: number | [number, number];
}

/** conv2d's attributes as plans record them: `Conv2dOptions` normalized. */
export interface Conv2dAttrs {
  strides: [number, number];
  padding: Padding;
  dilations: [number, number];
}

export interface Pool2dAttrs {
  filterSize: [number, number];
  strides: [number, number];
  padding: Padding;
}

/** Attributes of each op; ops absent here take none. */
export interface OpAttrs {
  conv2d: Conv2dAttrs;
  /** The filter is [KH, KW, C, M] and the output has C*M channels; strides, padding and dilations as conv2d's. */
  depthwiseConv2d: Conv2dAttrs;
  sum: { axes: number[] | null; keepDims: boolean };
  mean: { axes: number[] | null; keepDims: boolean };
  reshape: { shape: number[] };
  transpose: { perm: number[] | null };
  slice: { begin: number[]; size: number[] };
  concat: { axis: number };
  div: { divisor: number };
  maxPool2d: Pool2dAttrs;
  avgPool2d: Pool2dAttrs;
  argmax: { axis: number };
}

export type AttrsOf<O extends OpName> = O extends keyof OpAttrs ? OpAttrs[O] : Record<string, never>;

/** Ops with two tensor operands that broadcast elementwise. */
export const elementwiseBinaryOps = [Op.Add, Op.Sub, Op.Mul, Op.Lt, Op.Gt, Op.Le, Op.Ge, Op.Eq] as const;
export type ElementwiseBinaryOp = (typeof elementwiseBinaryOps)[number];

/** Comparison ops: they yield 1 where the relation holds and 0 elsewhere. */
export const comparisonOps = [Op.Lt, Op.Gt, Op.Le, Op.Ge, Op.Eq] as const;
export type ComparisonOp = (typeof comparisonOps)[number];

/** Normalizes `number | [number, number]` to a pair. */
export function pair(value: number | readonly [number, number] | undefined, fallback: number): [number, number] {
  if (value === undefined) return [fallback, fallback];
  return typeof value === "number" ? [value, value] : [value[0], value[1]];
}

/**
 * When an op on shares needs correlated randomness from a crypto provider:
 * never, always, or only when both operands are shared (a product with a
 * public operand is local).
 */
export type ProviderNeed = "never" | "always" | "whenBothShared";

/**
 * The protocols written for exactly two holders; an op that runs one refuses
 * any other number. "truncation": local truncation (mpc/protocols/truncate.ts),
 * after products and for division by a public value. "comparison": ltz
 * (mpc/protocols/ltz.ts), under comparisons, relu, max pooling and argmax.
 */
export type TwoHolderProtocol = "truncation" | "comparison";

/** How a refusal names each two-holder protocol. */
export const twoHolderProtocolNames: Readonly<Record<TwoHolderProtocol, string>> = {
  truncation: "Truncation and division by a public value",
  comparison: "Comparison (ltz)",
};

/**
 * What an op costs online. `per` says what the counts are per:
 * - "element": `rounds` in all; words per element of the output;
 * - "product" (Beaver, both operands shared): `rounds` in all; `holderWords`
 *   per element of each operand as given (|x| + |y|, before broadcasting),
 *   `providerWords` per element of the output;
 * - "comparison" (a tournament over K candidates per output element, see
 *   `candidates`): `rounds` per level, ceil(log2 K) levels; words per
 *   comparison, K - 1 comparisons per output element.
 */
export type OpCost<O extends OpName> =
  | ({ per: "element" | "product" } & Words)
  | ({
      per: "comparison";
      /** K, the candidates each output element is the winner of, from the attributes and the input's shape. */
      candidates: (attrs: AttrsOf<O>, inputShape: readonly number[]) => number;
    } & Words);

/**
 * Rounds and words of a cost: `providerWords` go to the last holder,
 * `providerWordsOthers` (when present) to each other holder.
 */
export interface Words {
  rounds: number;
  holderWords: number;
  providerWords: number;
  providerWordsOthers?: number;
}

/** How an op's cost is made of ltz: `count` ltz words per element (rounds once), plus `extra`. */
export interface LtzUse {
  count: number;
  extra: { rounds: number; holderWords: number; providerWords: number };
}

/** What running an op on shares requires and costs; see {@link opFacts}. */
export interface OpFacts<O extends OpName> {
  provider: ProviderNeed;
  /** The two-holder protocol the op runs, or null if it works for any number of holders. */
  twoHolders: TwoHolderProtocol | null;
  /** Attributes for which the op skips its two-holder protocol (division by 1 is the identity). */
  anyHoldersWhen?: (attrs: AttrsOf<O>) => boolean;
  /** The cost under the default comparison ("kogge-stone"); {@link opCost} gives it under each. */
  cost: OpCost<O>;
  /** For ops built on ltz: how, so that {@link opCost} can price them under another comparison. */
  ltz?: LtzUse;
}

const local = { per: "element", rounds: 0, holderWords: 0, providerWords: 0 } as const;
const product = { per: "product", rounds: 1, holderWords: 1, providerWords: 1 } as const;
/**
 * ltz's online cost under each comparison protocol. "kogge-stone" (ltz.ts): 8
 * rounds; 25 words from each holder, 14 from the provider to the last holder.
 * "fss" (ltz-fss.ts) reading `fssBits` bits: 1 round, 1 word from each holder;
 * the provider sends every holder the DCF keys' correction words, 3·fssBits
 * words (192 at 64 bits), and the last holder 1 more (its share of the mask's top bit).
 *
 * @example
 * ```ts
 * ltzCost("fss"); // { rounds: 1, holderWords: 1, providerWords: 193, providerWordsOthers: 192 }
 * ```
 */
export function ltzCost(comparison: ComparisonProtocol, fssBits = 64): Required<Words> {
  return comparison === "fss"
    ? { rounds: 1, holderWords: 1, providerWords: 3 * fssBits + 1, providerWordsOthers: 3 * fssBits }
    : { rounds: 8, holderWords: 25, providerWords: 14, providerWordsOthers: 0 };
}

/** `use` priced with ltz's cost `ltz`. */
function withLtz(use: LtzUse, ltz: Required<Words>): Required<Words> {
  return {
    rounds: ltz.rounds + use.extra.rounds,
    holderWords: use.count * ltz.holderWords + use.extra.holderWords,
    providerWords: use.count * ltz.providerWords + use.extra.providerWords,
    providerWordsOthers: use.count * ltz.providerWordsOthers,
  };
}

/** The facts of an op built on ltz, priced under the default comparison. */
function viaLtz(count: number, extra: LtzUse["extra"] = { rounds: 0, holderWords: 0, providerWords: 0 }) {
  const use = { count, extra };
  return {
    provider: "always",
    twoHolders: "comparison",
    ltz: use,
    cost: { per: "element", ...withLtz(use, ltzCost("kogge-stone")) },
  } as const;
}

/** A Beaver select after ltz (relu, max pooling): 1 round, 2 words from each holder, 1 from the provider. */
const select = { rounds: 1, holderWords: 2, providerWords: 1 } as const;
/** argmax's select of the value and its index together: 2 words of each operand. */
const selectWithIndex = { rounds: 1, holderWords: 4, providerWords: 2 } as const;

/**
 * The facts of every op on shares, in one place: whether it needs a crypto
 * provider, whether it needs exactly two holders, and its online cost.
 *
 * Units. A word is one ring element (8 bytes). Rounds are holder-to-holder
 * exchanges (`PartyStats.rounds`); the dealer's replies overlap them and are
 * not rounds. Holder words are what each holder sends to each other holder,
 * so with n holders it sends 8·words·(n - 1) bytes (`PartyStats.bytesSent`).
 * Provider words go to the last holder (its correction terms), and under the
 * "fss" comparison `providerWordsOthers` to each other holder (DCF keys, see
 * {@link ltzCost}); `TrustedDealer.stats.elementsDealt` counts them all. Every
 * holder also receives, the first time it needs material from a provider, a
 * key of {@link providerKeyBytes} bytes from which it expands the rest. What a
 * count is per is given by the cost's `per` ({@link OpCost}); {@link
 * predictTraffic} does the arithmetic, {@link opCost} prices an op under
 * either comparison.
 *
 * Costs are for one op on fresh operands. In a plan run, a shared weight's
 * masked value is opened once and reused (mpc/protocols/beaver.ts), so later
 * runs send only the other operand.
 *
 * @example
 * ```ts
 * opFacts.relu.cost; // { per: "element", rounds: 9, holderWords: 27, providerWords: 15 }
 * predictTraffic("relu", {}, [{ shape: [1024], shared: true }], [1024]).providerWords; // 15 * 1024
 * ```
 */
export const opFacts: { readonly [O in OpName]: OpFacts<O> } = {
  add: { provider: "never", twoHolders: null, cost: local },
  sub: { provider: "never", twoHolders: null, cost: local },
  neg: { provider: "never", twoHolders: null, cost: local },
  mul: { provider: "whenBothShared", twoHolders: "truncation", cost: product },
  matmul: { provider: "whenBothShared", twoHolders: "truncation", cost: product },
  conv2d: { provider: "whenBothShared", twoHolders: "truncation", cost: product },
  depthwiseConv2d: { provider: "whenBothShared", twoHolders: "truncation", cost: product },
  sum: { provider: "never", twoHolders: null, cost: local },
  mean: { provider: "never", twoHolders: "truncation", cost: local },
  reshape: { provider: "never", twoHolders: null, cost: local },
  transpose: { provider: "never", twoHolders: null, cost: local },
  slice: { provider: "never", twoHolders: null, cost: local },
  concat: { provider: "never", twoHolders: null, cost: local },
  div: { provider: "never", twoHolders: "truncation", anyHoldersWhen: (attrs) => attrs.divisor === 1, cost: local },
  lt: viaLtz(1),
  gt: viaLtz(1),
  le: viaLtz(1),
  ge: viaLtz(1),
  // One ltz over [x - y, y - x]: twice the words, the same rounds.
  eq: viaLtz(2),
  // ltz, then x · bit by one Beaver product: +1 round, +2 words from each holder, +1 from the provider.
  relu: viaLtz(1, select),
  // Each comparison: ltz and one Beaver select of the difference, as relu.
  maxPool2d: {
    ...viaLtz(1, select),
    cost: {
      per: "comparison",
      ...withLtz({ count: 1, extra: select }, ltzCost("kogge-stone")),
      candidates: (attrs) => attrs.filterSize[0] * attrs.filterSize[1],
    },
  },
  avgPool2d: { provider: "never", twoHolders: "truncation", cost: local },
  // Each comparison: ltz and one Beaver select of the value and its index (2 words of each operand).
  argmax: {
    ...viaLtz(1, selectWithIndex),
    cost: {
      per: "comparison",
      ...withLtz({ count: 1, extra: selectWithIndex }, ltzCost("kogge-stone")),
      candidates: (attrs, inputShape) => inputShape[attrs.axis < 0 ? attrs.axis + inputShape.length : attrs.axis]!,
    },
  },
  copy: { provider: "never", twoHolders: null, cost: local },
};

/** Bytes of the key each holder receives once from a crypto provider (a PRG seed, see trusted-dealer.ts). */
export const providerKeyBytes = 16;

/** Whether `op` on shares needs a crypto provider, with `sharedOperands` of its operands shared. */
export function needsProvider(op: OpName, sharedOperands: number): boolean {
  const { provider } = opFacts[op];
  return provider === "always" || (provider === "whenBothShared" && sharedOperands === 2);
}

/** The two-holder protocol `op` runs with these attributes, or null if any number of holders will do. */
export function twoHolderProtocolOf<O extends OpName>(op: O, attrs: AttrsOf<O>): TwoHolderProtocol | null {
  const facts: OpFacts<O> = opFacts[op];
  return facts.anyHoldersWhen?.(attrs) ? null : facts.twoHolders;
}

/** The ops that run `protocol`, in `allOps` order; with null, the ops that work for any number of holders. */
export function opsRunning(protocol: TwoHolderProtocol | null): OpName[] {
  return allOps.filter((op) => opFacts[op].twoHolders === protocol);
}

/** The ops that need a crypto provider whenever they run on shares (`always`), or only on two shared operands. */
export function opsNeedingProvider(need: Exclude<ProviderNeed, "never">): OpName[] {
  return allOps.filter((op) => opFacts[op].provider === need);
}

/** An op's online traffic, as {@link opFacts} counts it. */
export interface Traffic {
  rounds: number;
  /** Words each holder sends to each other holder. */
  holderWords: number;
  /** Words the provider sends to the last holder (the one-time key aside). */
  providerWords: number;
  /** Words the provider sends to each other holder (the one-time key aside): only "fss" sends any. */
  providerWordsOthers: number;
}

/**
 * `op`'s cost under `comparison` (and `fssBits` for "fss"): its table entry,
 * with ltz's part repriced for ops built on ltz.
 *
 * @example
 * ```ts
 * opCost("relu", "fss"); // { per: "element", rounds: 2, holderWords: 3, providerWords: 194, providerWordsOthers: 192 }
 * ```
 */
export function opCost<O extends OpName>(
  op: O,
  comparison: ComparisonProtocol = "kogge-stone",
  fssBits = 64,
): OpCost<O> {
  const facts: OpFacts<O> = opFacts[op];
  if (!facts.ltz) return facts.cost;
  return { ...facts.cost, ...withLtz(facts.ltz, ltzCost(comparison, fssBits)) };
}

/**
 * The traffic {@link opFacts} predicts for one run of `op` on shares, given
 * its operands' shapes (and which are shared) and its output's shape, under
 * `comparison` for ops built on ltz.
 */
export function predictTraffic<O extends OpName>(
  op: O,
  attrs: AttrsOf<O>,
  operands: ReadonlyArray<{ shape: readonly number[]; shared: boolean }>,
  outputShape: readonly number[],
  comparison: ComparisonProtocol = "kogge-stone",
  fssBits = 64,
): Traffic {
  const cost = opCost(op, comparison, fssBits);
  const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
  const outputs = size(outputShape);
  const others = cost.providerWordsOthers ?? 0;
  switch (cost.per) {
    case "element":
      return {
        rounds: cost.rounds,
        holderWords: cost.holderWords * outputs,
        providerWords: cost.providerWords * outputs,
        providerWordsOthers: others * outputs,
      };
    case "product": {
      if (!operands.every((o) => o.shared))
        return { rounds: 0, holderWords: 0, providerWords: 0, providerWordsOthers: 0 };
      const masked = operands.reduce((n, o) => n + size(o.shape), 0);
      return {
        rounds: cost.rounds,
        holderWords: cost.holderWords * masked,
        providerWords: cost.providerWords * outputs,
        providerWordsOthers: others * outputs,
      };
    }
    case "comparison": {
      const k = cost.candidates(attrs, operands[0]!.shape);
      const comparisons = (k - 1) * outputs;
      let levels = 0;
      for (let left = k; left > 1; left = Math.ceil(left / 2)) levels++;
      return {
        rounds: cost.rounds * levels,
        holderWords: cost.holderWords * comparisons,
        providerWords: cost.providerWords * comparisons,
        providerWordsOthers: others * comparisons,
      };
    }
  }
}
