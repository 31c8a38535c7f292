/**
 * Seeded train / validation / test splits of an arquero table, by group and by class.
 */
import * as aq from "arquero";
import { DataError, ErrorCode } from "../core/errors";
import { Rng, type Seed } from "./random";

/** Options of {@link splitData}. */
export interface SplitOptions {
  /** Fraction of rows for the test split, in [0, 1) (default 0.2). */
  readonly testSize?: number;
  /** Fraction of rows for the validation split, in [0, 1) (default 0.1). */
  readonly validSize?: number;
  /** Seed of the shuffle (default 0): equal seeds give equal splits. */
  readonly seed?: Seed;
  /**
   * A column whose equal values must stay together (e.g. `"lesion_id"`, so no lesion has
   * images in two splits). Default: every row is its own group.
   */
  readonly groupBy?: string;
  /**
   * A column to stratify by, so each split keeps the class proportions (default `"label"` when
   * the table has that column; `false` to turn off). With `groupBy`, a group's stratum is the
   * value of its first row.
   */
  readonly stratify?: string | false;
}

/** The three splits; each keeps the input's columns and row order. */
export interface Splits {
  readonly train: aq.ColumnTable;
  readonly valid: aq.ColumnTable;
  readonly test: aq.ColumnTable;
}

/**
 * Splits a table into train, validation and test tables.
 *
 * 1. Rows are gathered into groups (`groupBy`) and groups into strata (`stratify`).
 * 2. Within each stratum the groups are shuffled with `Rng(seed)`.
 * 3. Walking the shuffled groups, each goes to test while that brings test closer to
 *    `testSize` of the stratum's rows, then to valid likewise, else to train.
 *
 * So no group is in two splits, each split has about the requested share of every class, and
 * the result depends only on the table, the options and the seed.
 *
 * @example
 * ```ts
 * const table = await readSkinCancerDataset();
 * const { train, valid, test } = splitData(table, { testSize: 0.2, validSize: 0.1, seed: 42, groupBy: "lesion_id" });
 * [train.numRows(), valid.numRows(), test.numRows()];   // [752, 107, 215]
 * ```
 */
export function splitData(table: aq.ColumnTable, options: SplitOptions = {}): Splits {
  const testSize = options.testSize ?? 0.2;
  const validSize = options.validSize ?? 0.1;
  for (const [name, value] of [["testSize", testSize], ["validSize", validSize]] as const) {
    if (!(value >= 0 && value < 1)) {
      throw new DataError(ErrorCode.INVALID_ARGUMENT, `splitData: ${name} must be a fraction in [0, 1), got ${value}.`);
    }
  }
  if (testSize + validSize >= 1) {
    throw new DataError(ErrorCode.INVALID_ARGUMENT, `splitData: testSize + validSize must be < 1 so that train is not empty, got ${testSize} + ${validSize}.`);
  }
  const columns = table.columnNames();
  const stratify = options.stratify === undefined ? (columns.includes("label") ? "label" : false) : options.stratify;
  for (const column of [options.groupBy, stratify]) {
    if (typeof column === "string" && !columns.includes(column)) {
      throw new DataError(ErrorCode.INVALID_ARGUMENT, `splitData: the table has no column "${column}"; it has ${columns.join(", ")}.`);
    }
  }

  const base = table.ungroup().reify();
  const n = base.numRows();
  const groupKeys = options.groupBy === undefined ? undefined : base.array(options.groupBy);
  const strataKeys = stratify === false ? undefined : base.array(stratify);

  // 1. rows -> groups (in order of first appearance), groups -> strata
  const groups = new Map<unknown, number[]>();
  for (let i = 0; i < n; i++) {
    const key = groupKeys === undefined ? i : groupKeys[i];
    const rows = groups.get(key);
    if (rows === undefined) groups.set(key, [i]);
    else rows.push(i);
  }
  const strata = new Map<unknown, number[][]>();
  for (const rows of groups.values()) {
    const key = strataKeys === undefined ? null : strataKeys[rows[0]!];
    const members = strata.get(key);
    if (members === undefined) strata.set(key, [rows]);
    else members.push(rows);
  }

  // 2-3. shuffle each stratum with its own stream, fill test, then valid, then train
  const rng = new Rng(options.seed ?? 0);
  const assignment = new Uint8Array(n); // 0 train, 1 valid, 2 test
  const sortedStrata = [...strata.entries()].sort(([a], [b]) => compareKeys(a, b));
  for (const [key, members] of sortedStrata) {
    const stratumRng = rng.derive(String(key));
    const order = stratumRng.permutation(members.length);
    const total = members.reduce((sum, rows) => sum + rows.length, 0);
    const targets = [0, validSize * total, testSize * total];
    const counts = [0, 0, 0];
    for (const g of order) {
      const rows = members[g]!;
      let split = 0;
      for (const candidate of [2, 1]) {
        if (Math.abs(counts[candidate]! + rows.length - targets[candidate]!) < Math.abs(counts[candidate]! - targets[candidate]!)) {
          split = candidate;
          break;
        }
      }
      counts[split] += rows.length;
      for (const row of rows) assignment[row] = split;
    }
  }

  const pick = (split: number): number[] => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) if (assignment[i] === split) out.push(i);
    return out;
  };
  return { train: base.reify(pick(0)), valid: base.reify(pick(1)), test: base.reify(pick(2)) };
}

function compareKeys(a: unknown, b: unknown): number {
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}
