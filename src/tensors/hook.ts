/**
 * The hook: tsyft's hold on a TensorFlow.js instance (PySyft's TorchHook).
 *
 * It keeps the tf module the user imported (so tensors made in a notebook and
 * inside tsyft are the same class), the local worker, the id generator, and
 * the validation-mode checks still in flight.
 */
import type * as tfjs from "@tensorflow/tfjs";
import { ErrorCode, TsyftError } from "../core/errors";
import type { AttrsOf, OpName } from "../core/ops";
import { setPlainBackend, shapeOf, type Operand } from "./base";
import type { WorkerHandle, PlainTensorData } from "./handle";
import { IdGenerator } from "./ids";
import { runPlainOp, type TF } from "./plain-ops";

export class Hook {
  readonly ids = new IdGenerator();
  private localWorkerHandle?: WorkerHandle;
  private readonly validations = new Set<Promise<void>>();
  private readonly workers = new Map<string, WorkerHandle>();
  private validationFailure?: Error;

  constructor(readonly tf: TF) {}

  /** The client's own worker (PySyft's `me`). */
  get localWorker(): WorkerHandle {
    if (!this.localWorkerHandle) {
      throw new TsyftError(ErrorCode.WORKER_ID, "This hook has no local worker yet; create hooks with sy.hook(tf).");
    }
    return this.localWorkerHandle;
  }

  set localWorker(worker: WorkerHandle) {
    this.localWorkerHandle = worker;
  }

  /** Makes a worker known by id (workers register themselves when created or connected). */
  registerWorker(worker: WorkerHandle): void {
    this.workers.set(worker.id, worker);
  }

  /** The worker with this id, for rebuilding references that travelled by id (fetched plans). */
  resolveWorker(id: string): WorkerHandle {
    const worker = this.workers.get(id);
    if (!worker) {
      throw new TsyftError(
        ErrorCode.WORKER_ID,
        `No worker "${id}" is known to this hook (known: ${[...this.workers.keys()].join(", ") || "none"}). Create or connect it before fetching what refers to it.`,
        { worker: id },
      );
    }
    return worker;
  }

  /** Keeps a validation-mode check; its failure is thrown by the next `get()`. */
  trackValidation(check: Promise<void>): void {
    const tracked = check.catch((error: Error) => {
      this.validationFailure ??= error;
    });
    this.validations.add(tracked);
    void tracked.finally(() => this.validations.delete(tracked));
  }

  /** Waits for validation checks in flight; throws the first failure. */
  async settleValidations(): Promise<void> {
    while (this.validations.size > 0) await Promise.all([...this.validations]);
    const failure = this.validationFailure;
    this.validationFailure = undefined;
    if (failure) throw failure;
  }

  /** A plaintext operand as a tf tensor (numbers become scalars). */
  toTf(operand: Operand): tfjs.Tensor {
    if (typeof operand === "number") return this.tf.scalar(operand);
    if (operand instanceof this.tf.Tensor) return operand;
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      `Expected a plaintext tensor or number, got a ${operand.constructor.name} of shape [${shapeOf(operand)}].`,
    );
  }
}

let current: Hook | undefined;

/** The hook made by the latest `sy.hook(tf)`. */
export function currentHook(): Hook {
  if (!current) throw new TsyftError(ErrorCode.INVALID_ARGUMENT, "No hook yet: call `const hook = sy.hook(tf)` first.");
  return current;
}

/** Makes `hook` current and plaintext `sy.F` ops run on its tf. */
export function activateHook(hook: Hook): void {
  current = hook;
  setPlainBackend(<O extends OpName>(op: O, operands: readonly Operand[], attrs: AttrsOf<O>) =>
    runPlainOp(
      hook.tf,
      op,
      operands.map((o) => hook.toTf(o)),
      attrs,
    ),
  );
}

/** A tf tensor as it travels. */
export function tensorData(t: tfjs.Tensor): PlainTensorData {
  const dtype = t.dtype === "int32" || t.dtype === "bool" ? t.dtype : "float32";
  const values = t.dataSync();
  const typed =
    dtype === "bool"
      ? Uint8Array.from(values as Uint8Array)
      : dtype === "int32"
        ? Int32Array.from(values)
        : Float32Array.from(values);
  return { dtype, shape: [...t.shape], values: typed };
}

/** Rebuilds a tf tensor from its wire form. */
export function fromTensorData(tf: TF, data: PlainTensorData): tfjs.Tensor {
  return tf.tensor(data.values, data.shape, data.dtype);
}
