/**
 * FixedPrecisionTensor: reals encoded in Z_2^64, held locally or as shares.
 *
 * `x.fixPrecision()` encodes a TensorFlow.js tensor on the client;
 * `.share(bob, charlie, { cryptoProvider: dan })` splits it among holders; ops
 * on the shared form run as secure protocols among the holders and return at
 * once; `await y.get()` reconstructs, `.floatPrecision()` decodes.
 *
 * @example
 * ```ts
 * const xSh = tf.tensor([1.5, -2.25]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
 * const y = xSh.mul(xSh).add(xSh);
 * (await y.get()).floatPrecision();   // tf.Tensor [3.75, 2.8125]
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { getConfig } from "../core/config";
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, ProtocolError, TsyftError, fmtShape } from "../core/errors";
import { needsProvider, opsRunning, twoHolderProtocolOf, type AttrsOf, type OpName } from "../core/ops";
import {
  decode,
  describeEncoding,
  encode,
  encoding as resolveEncoding,
  sameEncoding,
  type FixedPointEncoding,
  type FixedPointOptions,
} from "../encoding/fixed-point";
import type * as ring from "../ring";
import { TsyftTensor, describe, type Operand } from "./base";
import type { InputRef, WorkerHandle } from "./handle";
import type { Hook } from "./hook";
import { runPlainOp } from "./plain-ops";
import { inferShape } from "./shape-inference";
import {
  AdditiveSharingTensor,
  describeGroup,
  parseShareArgs,
  sameGroup,
  type ShareOptions,
  type SharingGroup,
} from "./shared";

export class FixedPrecisionTensor extends TsyftTensor {
  readonly priority = 2;

  constructor(
    readonly hook: Hook,
    /** The encoded values on the client, or the handle on their shares. */
    readonly child: ring.RingTensor | AdditiveSharingTensor,
    readonly encoding: FixedPointEncoding,
  ) {
    super();
  }

  /** Encodes a tf tensor (PySyft's `fix_precision`). */
  static fromTensor(hook: Hook, t: tfjs.Tensor, options: FixedPointOptions = {}): FixedPrecisionTensor {
    const enc = resolveEncoding(options);
    return new FixedPrecisionTensor(hook, encode(t.dataSync(), t.shape, enc), enc);
  }

  get shape(): readonly number[] {
    return this.child.shape;
  }

  get isShared(): boolean {
    return this.child instanceof AdditiveSharingTensor;
  }

  /** The sharing of a shared tensor (holders and crypto provider). */
  get group(): SharingGroup | undefined {
    return this.child instanceof AdditiveSharingTensor ? this.child.group : undefined;
  }

  /** Splits the values among `holders`: `share(bob, charlie, { cryptoProvider: dan })`. */
  share(...args: Array<WorkerHandle | ShareOptions>): FixedPrecisionTensor {
    const group = parseShareArgs(args);
    if (this.child instanceof AdditiveSharingTensor) {
      throw new ProtocolError(
        ErrorCode.INVALID_ARGUMENT,
        `This tensor is already shared among ${describeGroup(this.child.group)}; get() it first to re-share.`,
      );
    }
    return new FixedPrecisionTensor(
      this.hook,
      AdditiveSharingTensor.share(this.hook, this.child, group),
      this.encoding,
    );
  }

  /** Reconstructs a shared tensor on the client and frees the shares. */
  async get(): Promise<FixedPrecisionTensor> {
    if (!(this.child instanceof AdditiveSharingTensor)) return this;
    const values = await this.child.reconstruct({ remove: true });
    await this.hook.settleValidations();
    return new FixedPrecisionTensor(this.hook, values, this.encoding);
  }

  /** Decodes local values to a float32 tf tensor (PySyft's `float_precision`). */
  floatPrecision(): tfjs.Tensor {
    if (this.child instanceof AdditiveSharingTensor) {
      throw new ProtocolError(
        ErrorCode.INVALID_ARGUMENT,
        "floatPrecision: this tensor is shared; reconstruct it first: (await x.get()).floatPrecision().",
      );
    }
    return this.hook.tf.tensor(Float32Array.from(decode(this.child, this.encoding)), [...this.shape], "float32");
  }

  floatPrec(): tfjs.Tensor {
    return this.floatPrecision();
  }

  /** A copy (for shares: a new object on every holder). */
  copy(): FixedPrecisionTensor {
    return this.applyOp("copy", [this], {}) as FixedPrecisionTensor;
  }

  applyOp<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>): TsyftTensor {
    refuseForeign(this.hook, operands, op);
    const { encoding: enc = this.encoding, lead } = commonSharing(operands, op);
    const shape = inferShape(op, operands.map(shapeOfOperand), attrs);
    if (!lead) return this.applyLocally(op, operands, attrs, enc);

    checkSupported(op, operands, lead.group, attrs);
    const inputs = operands.map((o) => inputRefOf(this.hook, o, enc, op));
    const result = lead.run(op, inputs, attrs, enc, shape);
    if (getConfig().validate) this.validate(op, operands, attrs, enc, result);
    return new FixedPrecisionTensor(this.hook, result, enc);
  }

  /** Ops on values the client holds: decode, run in TensorFlow.js, encode. */
  private applyLocally<O extends OpName>(
    op: O,
    operands: readonly Operand[],
    attrs: AttrsOf<O>,
    enc: FixedPointEncoding,
  ): FixedPrecisionTensor {
    const tf = this.hook.tf;
    const result = tf.tidy(() => {
      const inputs = operands.map((o) => (o instanceof FixedPrecisionTensor ? o.floatPrecision() : this.hook.toTf(o)));
      return runPlainOp(tf, op, inputs, attrs);
    });
    const fpt = FixedPrecisionTensor.fromTensor(this.hook, result, enc);
    result.dispose();
    return fpt;
  }

  /** Validation mode: reconstructs inputs and output and compares with plaintext. */
  private validate<O extends OpName>(
    op: O,
    operands: readonly Operand[],
    attrs: AttrsOf<O>,
    enc: FixedPointEncoding,
    result: AdditiveSharingTensor,
  ): void {
    // Fetches are queued now, right behind the op, so later ops cannot free what they read.
    const inputs = operands.map((o) =>
      o instanceof FixedPrecisionTensor && o.child instanceof AdditiveSharingTensor
        ? o.child.reconstruct({ remove: false })
        : o,
    );
    const output = result.reconstruct({ remove: false });
    const tf = this.hook.tf;
    const tolerance = getConfig().validateTolerance;
    this.hook.trackValidation(
      (async () => {
        const plainInputs = await Promise.all(
          inputs.map(async (i) => {
            const v = await i;
            if (v instanceof FixedPrecisionTensor) return v.floatPrecision();
            if (typeof v === "number" || v instanceof tf.Tensor) return this.hook.toTf(v);
            return tf.tensor(Float32Array.from(decode(v as ring.RingTensor, enc)), [...(v as ring.RingTensor).shape]);
          }),
        );
        const expected = runPlainOp(tf, op, plainInputs, attrs).dataSync();
        const got = decode(await output, enc);
        let worst = 0;
        let at = -1;
        got.forEach((g, i) => {
          const d = Math.abs(g - expected[i]!);
          if (d > worst) [worst, at] = [d, i];
        });
        if (worst > tolerance) {
          throw new ProtocolError(
            ErrorCode.VALIDATION_FAILED,
            `Validation: secure ${op} (${result.id}) differs from plaintext by ${worst} at element ${at} ` +
              `(secure ${got[at]}, plaintext ${expected[at]}; tolerance ${tolerance}).`,
            { op, id: result.id, worst, index: at },
          );
        }
      })(),
    );
  }

  override toString(): string {
    const where =
      this.child instanceof AdditiveSharingTensor ? `shared among ${describeGroup(this.child.group)}` : "local";
    return `FixedPrecisionTensor ${fmtShape(this.shape)} (${describeEncoding(this.encoding)}), ${where}`;
  }

  [DISPLAY](): MimeBundle {
    const rows: Array<[string, string]> = [
      ["shape", fmtShape(this.shape)],
      ["encoding", describeEncoding(this.encoding)],
    ];
    if (this.child instanceof AdditiveSharingTensor) {
      rows.push(["holders", this.child.group.holders.map((h) => h.id).join(", ")]);
      rows.push(["crypto provider", this.child.group.provider?.id ?? "none"]);
      rows.push(["object id", this.child.id]);
    }
    const body = rows
      .map(([k, v]) => `<tr><th style="text-align:left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`)
      .join("");
    const title =
      this.child instanceof AdditiveSharingTensor
        ? "🔒 FixedPrecisionTensor &gt; AdditiveSharingTensor"
        : "FixedPrecisionTensor";
    return {
      "text/plain": this.toString(),
      "text/html": `<table><caption style="text-align:left"><b>${title}</b></caption>${body}</table>`,
    };
  }
}

function shapeOfOperand(o: Operand): readonly number[] {
  return typeof o === "number" ? [] : o.shape;
}

/** Refuses operands a fixed-precision op cannot take, such as pointers. */
function refuseForeign(hook: Hook, operands: readonly Operand[], op: string): void {
  for (const o of operands) {
    if (typeof o !== "number" && !(o instanceof FixedPrecisionTensor) && !(o instanceof hook.tf.Tensor)) {
      throw new ProtocolError(
        ErrorCode.UNSUPPORTED_OP,
        `${op}: cannot combine a fixed-precision tensor with a ${describe(o)}. Operands must be fixed-precision tensors, tf tensors or numbers.`,
      );
    }
  }
}

/** What the fixed-point operands of one op (or one plan run) have in common. */
export interface CommonSharing {
  /** The encoding of every fixed-point operand; undefined when none is fixed point. */
  encoding?: FixedPointEncoding;
  /** The shares of the first shared operand, whose group is every shared operand's; undefined when none is shared. */
  lead?: AdditiveSharingTensor;
}

/**
 * Checks, before anything is sent, that operands can be computed on together:
 * every fixed-point operand has one encoding, and every shared one has one
 * sharing group (the same holders in the same order, the same crypto
 * provider). `what` names the op or the plan in the error.
 *
 * @example
 * ```ts
 * const { encoding, lead } = commonSharing([xSh, ySh], "add");   // lead.group: where the op runs
 * ```
 */
export function commonSharing(operands: readonly Operand[], what: string): CommonSharing {
  const fixed = operands.filter((o): o is FixedPrecisionTensor => o instanceof FixedPrecisionTensor);
  const encoding = fixed[0]?.encoding;
  const otherEncoding = encoding && fixed.find((o) => !sameEncoding(encoding, o.encoding))?.encoding;
  if (encoding && otherEncoding) {
    throw new ProtocolError(
      ErrorCode.PRECISION_MISMATCH,
      `${what}: operands have different fixed-point encodings (${describeEncoding(encoding)} and ${describeEncoding(otherEncoding)}). ` +
        "Encode both with the same fixPrecision options.",
    );
  }
  const shares = fixed.flatMap((o) => (o.child instanceof AdditiveSharingTensor ? [o.child] : []));
  const lead = shares[0];
  const otherGroup = lead && shares.find((s) => !sameGroup(lead.group, s.group))?.group;
  if (lead && otherGroup) {
    throw new ProtocolError(
      ErrorCode.HOLDERS_MISMATCH,
      `${what}: operands are shared among different parties: ${describeGroup(lead.group)} and ${describeGroup(otherGroup)}. ` +
        "Share both tensors with the same holders and crypto provider.",
    );
  }
  return { encoding, lead };
}

/**
 * An operand as holders receive it: a shared tensor by its object id, a value
 * the client holds (fixed point or tf tensor or number) as a public encoding.
 */
export function inputRefOf(hook: Hook, o: Operand, enc: FixedPointEncoding, op: string): InputRef {
  if (o instanceof FixedPrecisionTensor) {
    return o.child instanceof AdditiveSharingTensor
      ? { kind: "object", id: o.child.id }
      : { kind: "public", value: o.child };
  }
  const t = hook.toTf(o);
  try {
    return { kind: "public", value: encode(t.dataSync(), t.shape, enc) };
  } catch (error) {
    if (error instanceof TsyftError)
      throw new ProtocolError(error.code, `${op}: public operand: ${error.message}`, error.details);
    throw error;
  }
}

/**
 * Refuses, before anything is sent, a secure op its sharing cannot run (the
 * requirements are the op's facts, core/ops.ts): no crypto provider for an op
 * that needs one, or a number of holders its protocol was not written for.
 */
function checkSupported<O extends OpName>(
  op: O,
  operands: readonly Operand[],
  group: SharingGroup,
  attrs: AttrsOf<O>,
): void {
  const sharedCount = operands.filter((o) => o instanceof FixedPrecisionTensor && o.isShared).length;
  if (needsProvider(op, sharedCount) && !group.provider) {
    throw new ProtocolError(
      ErrorCode.NO_CRYPTO_PROVIDER,
      `${op} on shared tensors needs correlated randomness, but they were shared without a crypto provider ` +
        `(${describeGroup(group)}). Share with share(bob, charlie, { cryptoProvider: dan }).`,
      { op },
    );
  }
  if (twoHolderProtocolOf(op, attrs) && group.holders.length !== 2) {
    throw new ProtocolError(
      ErrorCode.UNSUPPORTED_PARTIES,
      `${op} on shares needs exactly 2 share holders (plus a crypto provider); ` +
        `this tensor is shared among ${group.holders.length} (${describeGroup(group)}). ` +
        `Linear ops (${opsRunning(null).join(", ")}) work for any number of holders; share among 2 for the rest.`,
      { op, holders: group.holders.map((h) => h.id) },
    );
  }
}
