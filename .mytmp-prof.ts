import * as tf from "@tensorflow/tfjs";
import * as inspector from "node:inspector";
import * as fs from "node:fs";
import * as sy from "./src";
const post = (s: inspector.Session, m: string, p?: object) => new Promise<any>((res, rej) => s.post(m, p ?? {}, (e, r) => (e ? rej(e) : res(r))));
(async () => {
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const n = Number(process.env.N ?? 65536);
  const op = process.env.OP ?? "relu";
  const x = tf.randomNormal([n]).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  const barrier = () => Promise.all([bob.objectCount(), charlie.objectCount()]);
  const run = async () => { const y = op === "relu" ? x.relu() : op === "lt" ? x.lt(0) : x.mul(x); await barrier(); (y.child as any).release(); };
  const runs = Number(process.env.RUNS ?? 10);
  for (let i = 0; i < 3; i++) await run();
  const session = new inspector.Session(); session.connect();
  await post(session, "Profiler.enable"); await post(session, "Profiler.setSamplingInterval", { interval: 200 });
  await post(session, "Profiler.start");
  const times: number[] = [];
  const w0 = performance.now();
  for (let i = 0; i < runs; i++) { const t0 = performance.now(); await run(); times.push(performance.now() - t0); }
  console.log("WINDOW", w0.toFixed(0), performance.now().toFixed(0));
  const { profile } = await post(session, "Profiler.stop");
  fs.writeFileSync(process.env.OUTP ?? "/tmp/mine/prof/window.cpuprofile", JSON.stringify(profile));
  times.sort((a, b) => a - b);
  console.log(op, "n", n, "ms median", times[times.length >> 1].toFixed(1), "min", times[0].toFixed(1), "us/elem median", (times[times.length >> 1] * 1000 / n).toFixed(2), "min", (times[0] * 1000 / n).toFixed(2));
})();
