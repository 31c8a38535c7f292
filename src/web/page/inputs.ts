/**
 * The page's inputs, chosen by the model's input shape: numbers typed in (a small vector, the linear
 * toy), a digit drawn on a canvas (784 values or 28x28x1, MNIST), or an image file resized and
 * normalized here as the skin-cancer tutorial does (HxWx3: HAM10000's mean and std).
 *
 * @example
 * ```ts
 * const kind = inputKind([1, 784]);   // "digit"
 * ```
 */
import { HAM10000_MEAN, HAM10000_STD, normalize } from "../../data/transforms";

export type InputKind = "numbers" | "digit" | "image";

/**
 * What a person gives for a model of input shape `shape` (batch first).
 *
 * @example
 * ```ts
 * inputKind([1, 32, 32, 3]);   // "image"
 * ```
 */
export function inputKind(shape: readonly number[]): InputKind {
  const one = queryShape(shape).slice(1);
  if (one.length === 3 && one[2] === 3) return "image";
  if (one.reduce((a, b) => a * b, 1) === 784) return "digit";
  return "numbers";
}

/**
 * The shape of one query's input: the plan's with a batch of one, or the plan's own when it has no
 * batch dimension (the linear toy's [2]).
 *
 * @example
 * ```ts
 * queryShape([8, 784]);   // [1, 784]
 * ```
 */
export function queryShape(shape: readonly number[]): number[] {
  return shape.length >= 2 ? [1, ...shape.slice(1)] : [...shape];
}

/**
 * Reads comma- or space-separated numbers; throws with what it expected when they are not `count` numbers.
 *
 * @example
 * ```ts
 * readNumbers("1, -2.5", 2);   // [1, -2.5]
 * ```
 */
export function readNumbers(text: string, count: number): number[] {
  const values = text
    .split(/[\s,]+/)
    .filter((t) => t !== "")
    .map(Number);
  if (values.length !== count || values.some((v) => !Number.isFinite(v)))
    throw new Error(`Expected ${count} numbers separated by commas, got "${text}".`);
  return values;
}

/** A 280x280 canvas to draw a digit on, read as 28x28 values in [0, 1] (white on black, as MNIST). */
export class DigitPad {
  private drawing = false;

  constructor(private readonly canvas: HTMLCanvasElement) {
    const ctx = this.context();
    canvas.addEventListener("pointerdown", (e) => {
      this.drawing = true;
      ctx.beginPath();
      ctx.moveTo(e.offsetX, e.offsetY);
    });
    canvas.addEventListener("pointermove", (e) => {
      if (!this.drawing) return;
      ctx.lineTo(e.offsetX, e.offsetY);
      ctx.stroke();
    });
    for (const end of ["pointerup", "pointerleave"]) canvas.addEventListener(end, () => (this.drawing = false));
    this.clear();
  }

  clear(): void {
    const ctx = this.context();
    ctx.fillStyle = "#000";
    ctx.fillRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.strokeStyle = "#fff";
    ctx.lineWidth = 22;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
  }

  /** Draws a stroke through `points` (canvas pixels): what a finger does, for tests and demos. */
  stroke(points: ReadonlyArray<[number, number]>): void {
    const ctx = this.context();
    ctx.beginPath();
    points.forEach(([x, y], i) => (i === 0 ? ctx.moveTo(x, y) : ctx.lineTo(x, y)));
    ctx.stroke();
  }

  /** The drawing at 28x28, one value in [0, 1] per pixel, row by row. */
  values(): number[] {
    const small = document.createElement("canvas");
    small.width = small.height = 28;
    const ctx = small.getContext("2d")!;
    ctx.drawImage(this.canvas, 0, 0, 28, 28);
    const { data } = ctx.getImageData(0, 0, 28, 28);
    return Array.from({ length: 784 }, (_, i) => data[i * 4]! / 255);
  }

  private context(): CanvasRenderingContext2D {
    return this.canvas.getContext("2d", { willReadFrequently: true })!;
  }
}

/**
 * An image file resized to `height`x`width` (drawn on `preview`) and normalized with HAM10000's mean
 * and std, as the tutorial's transform does: HxWx3 values, row by row.
 *
 * @example
 * ```ts
 * const values = await imageValues(file, 32, 32, preview);   // 3072 numbers
 * ```
 */
export async function imageValues(
  file: Blob,
  height: number,
  width: number,
  preview: HTMLCanvasElement,
): Promise<number[]> {
  const bitmap = await createImageBitmap(file, { resizeWidth: width, resizeHeight: height, resizeQuality: "high" });
  preview.width = width;
  preview.height = height;
  const ctx = preview.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, width, height);
  const image = new Float32Array(height * width * 3);
  for (let p = 0; p < height * width; p++) for (let c = 0; c < 3; c++) image[p * 3 + c] = data[p * 4 + c]! / 255;
  const sample = normalize(HAM10000_MEAN, HAM10000_STD)({ image, shape: [height, width, 3], label: 0 });
  return Array.from(sample.image);
}
