/**
 * The skin-cancer CNN's encrypted runs as the profile and kernel-gap suites
 * time them: the tutorial model shared among a holder pair and a dealer, a
 * run at a batch size, and a timed series of runs. The kernel-gap cell imports
 * this module too, so that the cell and plain Node run the very same code.
 */
import * as tf from "@tensorflow/tfjs";
import * as sy from "../../src";
import { models } from "./tutorials";

const cnn = models[2]!;

/** Who holds the shares and who deals. */
export interface CnnWorkers {
  bob: sy.WorkerHandle;
  charlie: sy.WorkerHandle;
  dan: sy.WorkerHandle;
}

/** Median wall time and the process's CPU time per run, in ms. */
export interface Measured {
  wallMs: number;
  cpuMs: number;
}

/** A CNN plan shared among the workers, and what makes one encrypted run of it at a batch size. */
export async function cnnRunner(workers: CnnWorkers, id: string): Promise<(batch: number) => () => Promise<unknown>> {
  const plan = sy.Plan.fromModel(cnn.make(), { id });
  await plan.build(tf.zeros([1, ...cnn.input]));
  plan.fixPrecision().share(workers.bob, workers.charlie, { cryptoProvider: workers.dan });
  return (batch) => {
    const x = tf.randomNormal([batch, ...cnn.input], 0, 1, "float32", 7);
    const shared = () => x.fixPrecision().share(workers.bob, workers.charlie, { cryptoProvider: workers.dan });
    return async () => (await (plan.run(shared()) as sy.FixedPrecisionTensor).get()).floatPrecision();
  };
}

/** One warm-up run, then `runs` timed ones: their median wall time and CPU time per run. */
export async function measureRuns(runOnce: () => Promise<unknown>, runs: number): Promise<Measured> {
  await runOnce();
  const times: number[] = [];
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await runOnce();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  times.sort((a, b) => a - b);
  return { wallMs: times[times.length >> 1]!, cpuMs: (cpu.user + cpu.system) / 1000 / runs };
}
