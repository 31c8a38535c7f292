/**
 * `installDisplays(tf, aq?)`: teaches tf.Tensor and arquero tables to render
 * themselves in notebooks, by defining `[Symbol.for("tsyft.display")]` on
 * their prototypes. `sy.hook(tf)` calls it; calling it again changes nothing.
 */
import { DISPLAY, type MimeBundle } from "../core/display-protocol";
import { ErrorCode, TsyftError } from "../core/errors";
import { table, type ArqueroLike } from "./table";
import { tensorBundle, type RenderableTensor } from "./tensor";

/** The part of the TensorFlow.js namespace installDisplays needs. */
export interface TfLike {
  Tensor: { prototype: object };
}

/** The part of the arquero namespace installDisplays needs. */
export interface ArqueroModuleLike {
  ColumnTable?: { prototype: object };
  table?: (columns: Record<string, unknown[]>) => object;
}

function define(prototype: object, render: (this: unknown) => MimeBundle): void {
  Object.defineProperty(prototype, DISPLAY, { value: render, configurable: true, writable: true, enumerable: false });
}

function renderTensor(this: unknown): MimeBundle {
  return tensorBundle(this as RenderableTensor);
}

function renderArquero(this: unknown): MimeBundle {
  return table(this as ArqueroLike)[DISPLAY]();
}

/**
 * Adds rich notebook displays to TensorFlow.js tensors (an HTML grid of
 * values with shape and dtype) and, when given, to arquero tables (an HTML
 * table of the first rows). Idempotent.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs";
 * import * as aq from "arquero";
 * sy.installDisplays(tf, aq);
 * tf.tensor([[1, 2], [3, 4]])          // last expression: shown as a table
 * ```
 */
export function installDisplays(tf: TfLike, aq?: ArqueroModuleLike): void {
  const tensorPrototype = tf?.Tensor?.prototype;
  if (!tensorPrototype) {
    throw new TsyftError(
      ErrorCode.INVALID_ARGUMENT,
      'installDisplays(tf): pass the TensorFlow.js namespace (import * as tf from "@tensorflow/tfjs").',
    );
  }
  define(tensorPrototype, renderTensor);
  if (aq) {
    const tablePrototype = aq.ColumnTable?.prototype ?? (aq.table ? Object.getPrototypeOf(aq.table({})) : undefined);
    if (!tablePrototype) {
      throw new TsyftError(
        ErrorCode.INVALID_ARGUMENT,
        'installDisplays(tf, aq): pass the arquero namespace (import * as aq from "arquero").',
      );
    }
    define(tablePrototype, renderArquero);
  }
}
