/**
 * Checks shared by the tests that run the grid notebooks (headless runner and nbconvert): a process
 * listed by a notebook must be gone, and what notebook 02 must show on its three grid nodes.
 */
import { expect } from "vitest";
import { isAlive } from "../../src/grid/processes";

/**
 * What 02 shows on its grid, whoever ran it: three nodes linked pair by pair, the original's
 * toy and per-batch lines, and no node left running.
 */
export function checkClassificationOnGrid(all: string): void {
  for (const [node, peers] of [["bob", ["alice", "james"]], ["alice", ["bob", "james"]], ["james", ["bob", "alice"]]] as const) {
    const row = new RegExp(`^\\d+\\s+${node}\\s+ws://\\S+\\s+(.+?)\\s+\\d+\\s*$`, "m").exec(all);
    expect(row, `${node}'s link row`).not.toBeNull();
    expect(row![1]!.split(", ").sort()).toEqual([...peers].sort());
  }
  expect(all).toContain("Test set: Accuracy: 1/1 (100%)");
  expect(all).toContain("Prediction = [0], Label = [0]");
  expect(all).toMatch(/Test set: Accuracy: \d+\/100 \(\d+%\)/);
  const last = [...all.matchAll(/Test set: Accuracy: (\d+)\/(\d+) /g)].pop()!;
  const encrypted = /encrypted accuracy: (\d+)\/(\d+) = /.exec(all)!;
  expect([last[1], last[2]]).toEqual([encrypted[1], encrypted[2]]);
  const pids = [...all.matchAll(/^\d+\s+(?:gateway|bob|alice|james)\s+(?:gateway|node)\s+\S+\s+(\d+)\s*$/gm)].map((m) => Number(m[1]));
  expect(pids).toHaveLength(4);
  expect(pids.filter(isAlive)).toEqual([]);
  expect(all).toContain("grid stopped: all 4 processes have exited");
}

