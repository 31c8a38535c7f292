/**
 * Kernel start-up and first-cell latency: tsyft's kernel against tslab's own,
 * measured in the same run through jupyter_client (Debian's /usr/bin/python3).
 *
 * Per run and kernel: start = KernelManager.start_kernel until the
 * kernel_info_reply (wait_for_ready); first cell = a TypeScript cell sent
 * right after, until its execute_reply (tsyft binds its sockets before its
 * worker has loaded the compiler, so part of its start-up shows up here);
 * second cell = the next cell, a warm compile-and-run. Kernels alternate and
 * the median of `runs` is reported. Without jupyter_client the suite returns
 * one row that says so.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runKernelGap } from "./kernel-gap";

/** The repository root, from bench/suites or from its compiled copy in dist/bench/suites. */
const ABOVE = path.resolve(__dirname, "..", "..");
const REPO = path.basename(ABOVE) === "dist" ? path.dirname(ABOVE) : ABOVE;
const PYTHON = process.env.TSYFT_PYTHON ?? "/usr/bin/python3";

const DRIVER = String.raw`
import json, sys, time
from jupyter_client.manager import KernelManager

def reply_to(kc, msg_id, timeout=120):
    end = time.time() + timeout
    while True:
        msg = kc.get_shell_msg(timeout=max(0.1, end - time.time()))
        if msg["parent_header"].get("msg_id") == msg_id:
            return msg

def measure(name, cwd):
    t0 = time.perf_counter()
    km = KernelManager(kernel_name=name)
    km.start_kernel(cwd=cwd)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=120)
        t1 = time.perf_counter()
        first = reply_to(kc, kc.execute("const answer: number = 6 * 7;\nanswer"))
        t2 = time.perf_counter()
        second = reply_to(kc, kc.execute("const doubled: number = answer * 2;\ndoubled"))
        t3 = time.perf_counter()
        ok = first["content"]["status"] == "ok" and second["content"]["status"] == "ok"
        return {"kernel": name, "start_ms": (t1 - t0) * 1000, "first_cell_ms": (t2 - t1) * 1000,
                "second_cell_ms": (t3 - t2) * 1000, "ok": ok}
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

runs, cwd = int(sys.argv[1]), sys.argv[2]
for _ in range(runs):
    for name in ("tsyft", "tslab"):
        print(json.dumps(measure(name, cwd)), flush=True)
`;

interface Sample {
  kernel: string;
  start_ms: number;
  first_cell_ms: number;
  second_cell_ms: number;
  ok: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function writeKernelspecs(root: string): void {
  const launcher = path.join(REPO, "dist", "kernel", "launcher.js");
  const tslab = path.join(REPO, "node_modules", "tslab", "bin", "tslab");
  const specs = {
    tsyft: {
      argv: [process.execPath, launcher, "{connection_file}"],
      display_name: "Syft (TypeScript)",
      language: "typescript",
      interrupt_mode: "signal",
    },
    tslab: {
      argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"],
      display_name: "TypeScript (tslab)",
      language: "typescript",
    },
  };
  for (const [name, spec] of Object.entries(specs)) {
    fs.mkdirSync(path.join(root, "kernels", name), { recursive: true });
    fs.writeFileSync(path.join(root, "kernels", name, "kernel.json"), JSON.stringify(spec, null, 2));
  }
}

/** Start time and first-cell latency of tsyft's kernel and tslab's, median of `runs` (env TSYFT_KERNEL_BENCH_RUNS, default 5); then the kernel gap (kernel-gap.ts). */
export async function runKernelBench(): Promise<Array<Record<string, string | number>>> {
  const runs = Number(process.env.TSYFT_KERNEL_BENCH_RUNS ?? 5);
  const probe = spawnSync(PYTHON, ["-c", "import jupyter_client"], { stdio: "ignore" });
  if (probe.status !== 0) {
    return [
      {
        suite: "kernel",
        name: "start-up skipped",
        reason: `${PYTHON} lacks jupyter_client (apt-get install -y python3-jupyter-client)`,
      },
      ...(await runKernelGap(REPO)),
    ];
  }
  if (!fs.existsSync(path.join(REPO, "dist", "kernel", "launcher.js"))) {
    return [{ suite: "kernel", name: "skipped", reason: "dist/kernel/launcher.js is missing: run npm run build" }];
  }
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-kernel-bench-"));
  try {
    writeKernelspecs(root);
    const driver = path.join(root, "driver.py");
    fs.writeFileSync(driver, DRIVER);
    const runtime = path.join(root, "runtime");
    fs.mkdirSync(runtime);
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(PYTHON, [driver, String(runs), path.join(REPO, "notebooks")], {
        env: {
          ...process.env,
          JUPYTER_PATH: root,
          JUPYTER_RUNTIME_DIR: runtime,
          PYDEVD_DISABLE_FILE_VALIDATION: "1",
          PYTHONWARNINGS: "ignore",
        },
      });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      child.on("error", reject);
      child.on("close", (code) =>
        code === 0 ? resolve(stdout) : reject(new Error(`kernel bench driver exited ${code}: ${stderr.slice(-2000)}`)),
      );
    });
    const samples = output
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Sample);
    const startRows = ["tsyft", "tslab"].map((kernel) => {
      const mine = samples.filter((s) => s.kernel === kernel);
      const start = median(mine.map((s) => s.start_ms));
      const first = median(mine.map((s) => s.first_cell_ms));
      return {
        suite: "kernel",
        name: kernel,
        start_ms: Math.round(start),
        first_cell_ms: Math.round(first),
        start_to_first_result_ms: Math.round(median(mine.map((s) => s.start_ms + s.first_cell_ms))),
        second_cell_ms: Math.round(median(mine.map((s) => s.second_cell_ms))),
        runs: mine.length,
        cells_ok: mine.every((s) => s.ok) ? "yes" : "no",
      };
    });
    return [...startRows, ...(await runKernelGap(REPO))];
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}
