/**
 * Query sensitivities against a brute-force oracle: for small assets, the
 * largest L2 change of the query's output over every choice of one subject and
 * every extreme value (min or max) of that subject's elements; the formula
 * must equal it (the bound is attained at extremes, the query being linear).
 */
import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { applyOps } from "../../src/domain/remote-eval";
import { checkRemoteOp, outputShape, type RemoteOp } from "../../src/domain/remote-ops";
import { querySensitivity } from "../../src/domain/sensitivity";
import { hashPassword, verifyPassword } from "../../src/domain/passwords";
import { ErrorCode, TsyftError } from "../../src/core/errors";

function evaluate(values: number[], shape: number[], ops: RemoteOp[]): number[] {
  return tf.tidy(() => {
    let t = tf.tensor(values, shape);
    for (const op of ops) {
      if (op.op === "slice") t = tf.slice(t, op.begin, op.size);
      else if (op.op === "sum") t = tf.sum(t, op.axis);
      else t = tf.mean(t, op.axis);
    }
    return Array.from(t.dataSync());
  });
}

/** The largest L2 change over one subject's elements moved between min and max (all 2^n corners, others at min). */
function bruteForce(shape: number[], subjects: string[], ops: RemoteOp[], min: number, max: number): number {
  const perRow = shape.slice(1).reduce((a, b) => a * b, 1);
  const base = Array.from({ length: shape[0]! * perRow }, () => min);
  const reference = evaluate(base, shape, ops);
  let worst = 0;
  for (const subject of new Set(subjects)) {
    const positions = subjects.flatMap((s, row) =>
      s === subject ? Array.from({ length: perRow }, (_, j) => row * perRow + j) : [],
    );
    for (let mask = 0; mask < 2 ** positions.length; mask++) {
      const values = [...base];
      positions.forEach((p, bit) => (values[p] = mask & (1 << bit) ? max : min));
      const out = evaluate(values, shape, ops);
      worst = Math.max(worst, Math.hypot(...out.map((v, i) => v - reference[i]!)));
    }
  }
  return worst;
}

describe("querySensitivity", () => {
  const shape = [5, 2, 2];
  const subjects = ["a", "b", "a", "c", "b"];
  const cases: Array<[string, RemoteOp[]]> = [
    ["the asset itself", []],
    ["sum over rows", [{ op: "sum", axis: [0] }]],
    ["sum over everything", [{ op: "sum" }]],
    ["mean over rows", [{ op: "mean", axis: [0] }]],
    ["sum within rows (rows kept)", [{ op: "sum", axis: [1, 2] }]],
    ["mean over the last axis", [{ op: "mean", axis: [2] }]],
    [
      "a sum of a sum",
      [
        { op: "sum", axis: [2] },
        { op: "sum", axis: [0] },
      ],
    ],
    [
      "a slice of rows, then a mean over them",
      [
        { op: "slice", begin: [1], size: [3] },
        { op: "mean", axis: [0] },
      ],
    ],
    ["a slice within rows, then a sum", [{ op: "slice", begin: [0, 1], size: [5, 1] }, { op: "sum" }]],
  ];
  for (const [name, ops] of cases) {
    it(`equals the brute-force worst case: ${name}`, () => {
      const expected = bruteForce(shape, subjects, ops, -1, 2);
      expect(querySensitivity({ min: -1, max: 2, shape, subjects }, ops)).toBeCloseTo(expected, 5);
    });
  }
});

describe("applyOps (the domain's evaluation) against TF.js", () => {
  const shape = [4, 3, 5, 2];
  const values = Array.from({ length: 120 }, (_, i) => Math.sin(i) * 10);
  const recipes: RemoteOp[][] = [
    [{ op: "sum", axis: [0] }],
    [{ op: "mean", axis: [1, 3] }],
    [{ op: "sum" }],
    [
      { op: "slice", begin: [1, 0, 2], size: [2, 3, 3] },
      { op: "mean", axis: [0] },
    ],
    [{ op: "slice", begin: [0, 1, 0, 1], size: [4, 1, 5, 1] }],
    [
      { op: "mean", axis: [2] },
      { op: "slice", begin: [1], size: [2] },
      { op: "sum", axis: [0, 2] },
    ],
    [
      { op: "slice", begin: [2], size: [0] },
      { op: "sum", axis: [0] },
    ],
  ];
  for (const ops of recipes) {
    it(`matches ${ops.map((o) => o.op).join(" -> ")}`, () => {
      const got = applyOps({ values: Float32Array.from(values), shape, dtype: "float32" }, ops);
      const expected = evaluate(values, shape, ops);
      expect(got.shape).toEqual(outputShape(shape, ops));
      expect(Array.from(got.values)).toEqual(expected.map((v) => expect.closeTo(v, 4)));
    });
  }

  it("sums int32 and bool values as int32", () => {
    const got = applyOps({ values: new Uint8Array([1, 0, 1, 1]), shape: [2, 2], dtype: "bool" }, [
      { op: "sum", axis: [0] },
    ]);
    expect(got).toEqual({ values: new Int32Array([2, 1]), shape: [2], dtype: "int32" });
  });
});

describe("remote ops", () => {
  it("normalises axes and slice sizes, and computes output shapes", () => {
    expect(checkRemoteOp({ op: "sum", axis: [-1, 0] }, [4, 3])).toEqual({ op: "sum", axis: [0, 1] });
    expect(checkRemoteOp({ op: "slice", begin: [1], size: [-1] }, [4, 3])).toEqual({
      op: "slice",
      begin: [1],
      size: [3],
    });
    expect(
      outputShape(
        [4, 3, 2],
        [
          { op: "slice", begin: [1], size: [2] },
          { op: "mean", axis: [1] },
        ],
      ),
    ).toEqual([2, 2]);
  });

  it("refuses slices out of range, unknown ops and repeated axes with INVALID_ARGUMENT", () => {
    for (const op of [
      { op: "slice", begin: [3], size: [2] },
      { op: "matmul" },
      { op: "sum", axis: [0, 0] },
      { op: "mean", axis: [5] },
    ]) {
      expect(() => checkRemoteOp(op, [4, 3])).toThrow(TsyftError);
      expect(() => checkRemoteOp(op, [4, 3])).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }));
    }
  });
});

describe("password hashes", () => {
  it("are salted scrypt with their parameters, verified only by the same password", async () => {
    const [a, b] = [await hashPassword("changethis"), await hashPassword("changethis")];
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[\w-]+\$[\w-]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain("changethis");
    expect(await verifyPassword("changethis", a)).toBe(true);
    expect(await verifyPassword("changethat", a)).toBe(false);
    expect(await verifyPassword("changethis", "plain:changethis")).toBe(false);
  });
});
