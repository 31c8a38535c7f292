/**
 * PointerTensor: a handle on a plaintext tensor that lives on a worker.
 *
 * `t.send(bob)` stores t on bob and returns a pointer; ops on pointers run on
 * bob and return pointers at once (the ids are chosen here); `await p.get()`
 * brings the value back and frees it on bob, after which the pointer is
 * spent.
 *
 * @example
 * ```ts
 * const p = tf.tensor([1, 2]).send(bob);
 * const q = p.add(p).mul(3);          // runs on bob
 * await q.get();                      // tf.Tensor [6, 12]
 * ```
 */
import type * as tfjs from "@tensorflow/tfjs";
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, ProtocolError, WorkerError, fmtShape } from "../core/errors";
import type { AttrsOf, OpName } from "../core/ops";
import { TsyftTensor, describe, type Operand } from "./base";
import type { InputRef, PlainOpCommand, WorkerHandle } from "./handle";
import { fromTensorData, tensorData, type Hook } from "./hook";
import { inferShape } from "./shape-inference";

export class PointerTensor extends TsyftTensor {
  readonly priority = 1;
  private spent?: string;

  constructor(
    readonly hook: Hook,
    readonly location: WorkerHandle,
    readonly id: string,
    readonly shape: readonly number[],
  ) {
    super();
  }

  /** Stores `t` on `worker` and points to it. */
  static send(hook: Hook, t: tfjs.Tensor, worker: WorkerHandle): PointerTensor {
    const id = hook.ids.next();
    worker.store(id, { kind: "tensor", value: tensorData(t) });
    return new PointerTensor(hook, worker, id, t.shape);
  }

  /** Brings the value back and frees it on the worker; the pointer is spent afterwards. */
  async get(): Promise<tfjs.Tensor> {
    this.checkLive("get");
    this.spent = "get()";
    const value = await this.location.fetch(this.id, { remove: true });
    if (value.kind !== "tensor") {
      throw new WorkerError(
        ErrorCode.PROTOCOL_DESYNC,
        `${this.location.id} holds a share under ${this.id}, not a plaintext tensor.`,
      );
    }
    return fromTensorData(this.hook.tf, value.value);
  }

  /** A new object on the same worker with the same value. */
  copy(): PointerTensor {
    return this.applyOp("copy", [this], {});
  }

  /** Moves the value to another worker; this pointer is spent, the returned one points there. */
  async move(worker: WorkerHandle): Promise<PointerTensor> {
    if (worker.id === this.location.id) return this;
    this.checkLive("move");
    this.spent = `move(${worker.id})`;
    const value = await this.location.fetch(this.id, { remove: true });
    const id = this.hook.ids.next();
    worker.store(id, value);
    return new PointerTensor(this.hook, worker, id, this.shape);
  }

  /** Frees the remote value without fetching it. */
  release(): void {
    if (this.spent) return;
    this.spent = "release()";
    this.location.release([this.id]);
  }

  applyOp<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>): PointerTensor {
    const inputs: InputRef[] = operands.map((o) => {
      if (o instanceof PointerTensor) {
        o.checkLive(op);
        if (o.location.id !== this.location.id) {
          throw new ProtocolError(
            ErrorCode.HOLDERS_MISMATCH,
            `${op}: operands live on different workers (${this.location.id} and ${o.location.id}). Move one first: await p.move(${this.location.id}).`,
          );
        }
        return { kind: "object", id: o.id };
      }
      if (typeof o === "number" || o instanceof this.hook.tf.Tensor)
        return { kind: "plain", value: tensorData(this.hook.toTf(o)) };
      throw new ProtocolError(ErrorCode.UNSUPPORTED_OP, `${op}: cannot combine a pointer with a ${describe(o)}.`);
    });
    const shape = inferShape(
      op,
      operands.map((o) => (typeof o === "number" ? [] : o.shape)),
      attrs,
    );
    const output = this.hook.ids.next();
    this.location.submit({ type: "plain-op", op, inputs, attrs, output } as PlainOpCommand);
    return new PointerTensor(this.hook, this.location, output, shape);
  }

  private checkLive(action: string): void {
    if (this.spent) {
      throw new WorkerError(
        ErrorCode.POINTER_RELEASED,
        `Cannot ${action}: the pointer to ${this.id} on ${this.location.id} was released by ${this.spent}. Keep the value, or copy() the pointer before.`,
        { worker: this.location.id, id: this.id },
      );
    }
  }

  override toString(): string {
    return `PointerTensor -> ${this.location.id}:${this.id} ${fmtShape(this.shape)}${this.spent ? ` (released by ${this.spent})` : ""}`;
  }

  [DISPLAY](): MimeBundle {
    return { "text/plain": this.toString(), "text/html": `<code>${escapeHtml(this.toString())}</code>` };
  }
}
