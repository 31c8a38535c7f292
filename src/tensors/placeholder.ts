/**
 * PlaceholderTensor: a stand-in that records what is done to it while a plan
 * is traced. It has a shape and no values: anything that would read values
 * (printing data, branching on a comparison, `dataSync()`) throws, because a
 * plan is a static list of ops.
 */
import { ErrorCode, PlanError, fmtShape } from "../core/errors";
import type { AttrsOf, OpName } from "../core/ops";
import { TsyftTensor, type Operand } from "./base";

/** Receives the ops done to placeholders (implemented by the plan tracer). */
export interface OpRecorder {
  record<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>): PlaceholderTensor;
}

export class PlaceholderTensor extends TsyftTensor {
  readonly priority = 3;

  constructor(
    readonly recorder: OpRecorder,
    /** Value id in the plan being traced. */
    readonly ref: number,
    readonly shape: readonly number[],
    readonly label: string,
  ) {
    super();
  }

  applyOp<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>): PlaceholderTensor {
    return this.recorder.record(op, operands, attrs);
  }

  private refuse(what: string): never {
    throw new PlanError(
      ErrorCode.PLAN_INVALID,
      `A plan cannot ${what} of ${this.label} ${fmtShape(this.shape)} while it is traced: plans are static lists of ops, ` +
        "so their control flow cannot depend on the data. Compute with tensor ops only (e.g. relu, or mul by a comparison) instead of branching.",
    );
  }

  dataSync(): never {
    return this.refuse("read the values");
  }
  data(): never {
    return this.refuse("read the values");
  }
  arraySync(): never {
    return this.refuse("read the values");
  }
  array(): never {
    return this.refuse("read the values");
  }
  override valueOf(): never {
    return this.refuse("use the value");
  }
  [Symbol.toPrimitive](): never {
    return this.refuse("use the value");
  }
  override toString(): string {
    return `Placeholder(${this.label} ${fmtShape(this.shape)})`;
  }
}
