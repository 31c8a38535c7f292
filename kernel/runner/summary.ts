/** The runner's summary table. */
import type { NotebookReport } from "./execute-notebook";

export function formatTable(rows: Array<{ notebook: string; report?: NotebookReport; crash?: string }>): string {
  const header = ["notebook", "cells", "errors", "seconds", "status"];
  const body = rows.map(({ notebook, report, crash }) => {
    if (!report) return [notebook, "-", "-", "-", `CRASHED: ${(crash ?? "").split("\n")[0]}`];
    const failure = report.failure;
    const status = failure
      ? `FAILED at [${failure.executionCount}] ${failure.ename}: ${(failure.evalue ?? "").split("\n")[0].slice(0, 60)}`
      : "ok";
    return [notebook, String(report.cells), String(report.errors), report.seconds.toFixed(1), status];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i >= 1 && i <= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i])))
      .join("  ")
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)].join("\n");
}
