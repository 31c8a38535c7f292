import { describe, expect, it } from "vitest";
import { shapes } from "../../src/ring";

describe("shape inference", () => {
  it("broadcast follows numpy", () => {
    expect(shapes.broadcast([4, 1, 3], [2, 1])).toEqual([4, 2, 3]);
    expect(shapes.broadcast([], [2, 3])).toEqual([2, 3]);
    expect(shapes.broadcast([0, 1], [1, 5])).toEqual([0, 5]);
  });

  it("matmul, batched and broadcast batch", () => {
    expect(shapes.matmul([2, 3], [3, 4])).toEqual([2, 4]);
    expect(shapes.matmul([5, 2, 3], [3, 4])).toEqual([5, 2, 4]);
    expect(shapes.matmul([2, 3], [5, 3, 4])).toEqual([5, 2, 4]);
    expect(shapes.matmul([1, 2, 3], [5, 3, 4])).toEqual([5, 2, 4]);
  });

  it("conv2d and pool follow TensorFlow's window arithmetic", () => {
    expect(shapes.conv2d([1, 32, 32, 3], [5, 5, 3, 32], { padding: "same" })).toEqual([1, 32, 32, 32]);
    expect(shapes.conv2d([1, 28, 28, 1], [5, 5, 1, 8], { padding: "valid" })).toEqual([1, 24, 24, 8]);
    expect(shapes.conv2d([2, 7, 7, 1], [3, 3, 1, 4], { padding: "same", strides: 2 })).toEqual([2, 4, 4, 4]);
    expect(shapes.conv2d([1, 10, 10, 1], [3, 3, 1, 1], { padding: "valid", dilations: 2 })).toEqual([1, 6, 6, 1]);
    expect(shapes.pool([1, 28, 28, 8], { filterSize: [2, 2], strides: [2, 2], padding: "valid" })).toEqual([
      1, 14, 14, 8,
    ]);
    expect(shapes.pool([1, 7, 7, 8], { filterSize: [3, 3], strides: [2, 2], padding: "same" })).toEqual([1, 4, 4, 8]);
  });

  it("transpose, sum, concat, slice, reshape, size", () => {
    expect(shapes.transpose([2, 3, 4])).toEqual([4, 3, 2]);
    expect(shapes.transpose([2, 3, 4], [0, 2, 1])).toEqual([2, 4, 3]);
    expect(shapes.sum([2, 3, 4])).toEqual([]);
    expect(shapes.sum([2, 3, 4], [0, 2], true)).toEqual([1, 3, 1]);
    expect(shapes.sum([2, 3, 4], -1)).toEqual([2, 3]);
    expect(
      shapes.concat(
        [
          [2, 3],
          [2, 5],
        ],
        1,
      ),
    ).toEqual([2, 8]);
    expect(shapes.slice([4, 5], [1, 2], [2, -1])).toEqual([2, 3]);
    expect(shapes.reshape([2, 3, 4], [-1, 4])).toEqual([6, 4]);
    expect(shapes.size([2, 3, 4])).toBe(24);
    expect(shapes.size([])).toBe(1);
  });
});
