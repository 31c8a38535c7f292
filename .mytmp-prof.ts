import * as tf from "@tensorflow/tfjs";
import * as sy from "./src";
(async () => {
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const n = 65536;
  const x = tf.randomNormal([n]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  const barrier = () => Promise.all([bob.objectCount(), charlie.objectCount()]);
  const runs = Number(process.env.RUNS ?? 10);
  for (let i = 0; i < 2; i++) { const y = x.relu(); await barrier(); (y.child as any).release(); }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const y = x.relu(); await barrier(); (y.child as any).release();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  console.log("relu ms median", times[times.length >> 1].toFixed(1), "min", times[0].toFixed(1), "us/elem", (times[times.length >> 1] * 1000 / n).toFixed(2));
})();
