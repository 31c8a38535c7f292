/**
 * Op names and their attributes: the vocabulary shared by tensors, protocols,
 * plans and workers. Plans record these names; protocols and plaintext kernels
 * are looked up by them in typed registries (never by building strings).
 */

export const Op = {
  Add: "add",
  Sub: "sub",
  Neg: "neg",
  Mul: "mul",
  MatMul: "matmul",
  Conv2d: "conv2d",
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
