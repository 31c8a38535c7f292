import * as aq from "arquero";
import { beforeAll, describe, expect, it } from "vitest";
import { DataError, ErrorCode } from "../../src/core/errors";
import { readSkinCancerDataset } from "../../src/data/ham10000";
import { splitData, type Splits } from "../../src/data/split";
import { hasHam10000 } from "./helpers";

function column(table: aq.ColumnTable, name: string): unknown[] {
  return Array.from(table.array(name) as ArrayLike<unknown>);
}

function expectDisjoint(splits: Splits, key: string): void {
  const seen = new Map<unknown, string>();
  for (const [name, table] of Object.entries(splits)) {
    for (const value of column(table, key)) {
      const other = seen.get(value);
      if (other !== undefined && other !== name) throw new Error(`${key}=${String(value)} is in ${other} and ${name}`);
      seen.set(value, name);
    }
  }
}

describe.skipIf(!hasHam10000)("splitData on HAM10000", () => {
  let table: aq.ColumnTable;
  beforeAll(async () => {
    table = await readSkinCancerDataset();
  });

  it("puts no lesion in two splits and every row in one", () => {
    const splits = splitData(table, { testSize: 0.2, validSize: 0.1, seed: 42, groupBy: "lesion_id" });
    expectDisjoint(splits, "lesion_id");
    const ids = [...column(splits.train, "image_id"), ...column(splits.valid, "image_id"), ...column(splits.test, "image_id")];
    expect(ids).toHaveLength(1074);
    expect(new Set(ids).size).toBe(1074);
    expect(splits.test.numRows()).toBeGreaterThanOrEqual(210);
    expect(splits.test.numRows()).toBeLessThanOrEqual(220);
    expect(splits.valid.numRows()).toBeGreaterThanOrEqual(103);
    expect(splits.valid.numRows()).toBeLessThanOrEqual(111);
    expect(splits.train.columnNames()).toEqual(table.columnNames());
  });

  it("keeps the class balance in each split (stratified by label)", () => {
    const splits = splitData(table, { seed: 1, groupBy: "lesion_id" });
    for (const part of Object.values(splits)) {
      const labels = column(part, "label") as number[];
      const melShare = labels.filter((l) => l === 1).length / labels.length;
      expect(Math.abs(melShare - 491 / 1074)).toBeLessThan(0.02);
    }
  });

  it("is reproducible with the same seed and differs with another", () => {
    const a = splitData(table, { seed: 7, groupBy: "lesion_id" });
    const b = splitData(table, { seed: 7, groupBy: "lesion_id" });
    const c = splitData(table, { seed: 8, groupBy: "lesion_id" });
    for (const name of ["train", "valid", "test"] as const) {
      expect(column(a[name], "image_id")).toEqual(column(b[name], "image_id"));
    }
    expect(column(a.test, "image_id")).not.toEqual(column(c.test, "image_id"));
  });

  it("works on a filtered table", () => {
    const mel = table.filter((d: { dx: string }) => d.dx === "mel");
    const { train, valid, test } = splitData(mel, { seed: 3, groupBy: "lesion_id", testSize: 0.25, validSize: 0 });
    expect(train.numRows() + valid.numRows() + test.numRows()).toBe(491);
    expect(valid.numRows()).toBe(0);
    expect(new Set(column(test, "dx"))).toEqual(new Set(["mel"]));
  });
});

describe("splitData on a table with multi-row groups", () => {
  // 60 groups of 1 to 5 rows; a group's rows share its label
  const rows: { id: number; group: string; label: number }[] = [];
  for (let g = 0; g < 60; g++) for (let k = 0; k <= g % 5; k++) rows.push({ id: rows.length, group: `G${g}`, label: g % 3 === 0 ? 1 : 0 });
  const table = aq.from(rows);

  it("never splits a group and hits the requested sizes roughly", () => {
    for (const seed of [0, 1, 2, 3, 4]) {
      const splits = splitData(table, { testSize: 0.2, validSize: 0.2, seed, groupBy: "group" });
      expectDisjoint(splits, "group");
      expect(splits.train.numRows() + splits.valid.numRows() + splits.test.numRows()).toBe(rows.length);
      expect(Math.abs(splits.test.numRows() - 0.2 * rows.length)).toBeLessThanOrEqual(6);
      expect(Math.abs(splits.valid.numRows() - 0.2 * rows.length)).toBeLessThanOrEqual(6);
    }
  });

  it("keeps row order within each split", () => {
    const { train } = splitData(table, { seed: 5, groupBy: "group", stratify: false });
    const ids = column(train, "id") as number[];
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it("rejects bad sizes and unknown columns", () => {
    const check = (fn: () => unknown, pattern: RegExp) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(DataError);
        expect((error as DataError).code).toBe(ErrorCode.INVALID_ARGUMENT);
        expect((error as DataError).message).toMatch(pattern);
        return;
      }
      throw new Error("expected a DataError");
    };
    check(() => splitData(table, { testSize: 1.2 }), /testSize/);
    check(() => splitData(table, { testSize: 0.6, validSize: 0.5 }), /train is not empty/);
    check(() => splitData(table, { groupBy: "lesion" }), /no column "lesion"/);
  });
});
