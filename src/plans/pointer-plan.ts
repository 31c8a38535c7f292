/**
 * PointerPlan: a plan stored on a worker (the plan host), as `plan.send(alice)`
 * returns it. An encrypted plan runs on its holders (the host only kept its
 * IR and the ids of the shares); a plaintext plan runs on the host, on inputs
 * that live there or that are sent along.
 *
 * It shows itself as PySyft 0.2 showed a sent plan,
 * `<Net Net id:convnet owner:me location:alice built>`: the plan's class and
 * name, its id, the worker that sent it and the one that hosts it.
 */
import { DISPLAY, escapeHtml, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, PlanError } from "../core/errors";
import type { Operand, AnyTensor } from "../tensors/base";
import type { InputRef, WorkerHandle } from "../tensors/handle";
import { tensorData, type Hook } from "../tensors/hook";
import { PointerTensor } from "../tensors/pointer";
import type { PlanHost } from "./host";
import { inferPlanShapes } from "./ir";
import { runPlan, unwrapOutputs } from "./run";
import { stateFromWire, type SerializedPlan } from "./serialize";

export class PointerPlan {
  constructor(
    readonly hook: Hook,
    readonly location: WorkerHandle & PlanHost,
    readonly id: string,
    /** What was sent (IR and state descriptors). */
    readonly sent: SerializedPlan,
    /** Resolves once the host has stored the plan. */
    readonly stored: Promise<void>,
    /** The token the plan was sent with, presented when running it on the host. */
    private readonly token?: string,
    /** The class of the plan that was sent (`Net` for `class Net extends sy.Plan`), for display. */
    readonly className = "Plan",
  ) {
    stored.catch(() => undefined); // surfaced by `ready()` and by fetches
  }

  /** Waits until the host has stored the plan. */
  async ready(): Promise<this> {
    await this.stored;
    return this;
  }

  get encrypted(): boolean {
    return this.sent.state.some((s) => s.kind === "shared");
  }

  /**
   * Runs the plan. Encrypted: on the holders of its state, as a fetched copy
   * would. Plaintext: on the host, which returns pointers to the outputs.
   */
  run(...inputs: Operand[]): AnyTensor | AnyTensor[] {
    if (this.encrypted) {
      // Same path as a fetched copy: the state is referenced by share ids.
      const state = this.sent.state.map((s) => stateFromWire(this.hook, s));
      return unwrapOutputs(runPlan(this.hook, this.sent.ir, inputs, state));
    }
    const refs: InputRef[] = inputs.map((x) => {
      if (x instanceof PointerTensor) {
        if (x.location.id !== this.location.id) {
          throw new PlanError(
            ErrorCode.HOLDERS_MISMATCH,
            `Input is on ${x.location.id} but the plan lives on ${this.location.id}: move it first.`,
          );
        }
        return { kind: "object", id: x.id };
      }
      return { kind: "plain", value: tensorData(this.hook.toTf(x as never)) };
    });
    const shapes = inferPlanShapes(
      this.sent.ir,
      inputs.map((x) => (typeof x === "number" ? [] : x.shape)),
    );
    const outputs = shapes.map(() => this.hook.ids.next());
    this.location.submit({ type: "run-hosted-plan", planId: this.id, inputs: refs, outputs, token: this.token });
    return unwrapOutputs(outputs.map((id, i) => new PointerTensor(this.hook, this.location, id, shapes[i]!)));
  }

  /**
   * PySyft's form: `<Net Net id:convnet owner:me location:alice built>`.
   *
   * @example
   * ```ts
   * String(model.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).send(alice));
   * // "<Net Net id:convnet owner:me location:alice built>"
   * ```
   */
  toString(): string {
    const owner = this.hook.localWorker.id;
    return `<${this.className} ${this.sent.name} id:${this.id} owner:${owner} location:${this.location.id} built>`;
  }

  [DISPLAY](): MimeBundle {
    const where = this.encrypted
      ? `encrypted: ${this.location.id} keeps the ops and the ids of the weight shares`
      : `plaintext, on ${this.location.id}`;
    return {
      "text/plain": this.toString(),
      "text/html": `<code>${escapeHtml(this.toString())}</code> <small>(${escapeHtml(where)})</small>`,
    };
  }
}
