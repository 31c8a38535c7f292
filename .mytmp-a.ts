import * as tf from "@tensorflow/tfjs";
import * as sy from "./src";
(async () => {
  const hook = sy.hook(tf);
  const [alice, bob, charlie, dan] = ["alice", "bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const a = tf.randomNormal([2,3,4]); const b = tf.randomNormal([4,5]);
  tf.matMul(a as any, b as any).print();
  const s = tf.scalar(2.5).fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  (await s.mul(s).get()).floatPrecision().print();
  const x3 = tf.tensor([1, -2, 3]).fixPrecision().share(alice, bob, charlie, { cryptoProvider: dan });
  try { (await x3.mul(x3).get()); } catch (e: any) { console.log(e.name, e.code, e.message, e.details); }
  try { (await x3.relu().get()); } catch (e: any) { console.log(e.name, e.code, e.message, e.details); }
  const x = tf.tensor([1, -2, 3]).fixPrecision().share(bob, charlie);
  try { (await x.mul(x).get()); } catch (e: any) { console.log(e.name, e.code, e.message, e.details); }
  try { (await x.div(-2).get()); } catch (e: any) { console.log(e.name, e.code, e.message, e.details); }
  const big = tf.tensor([7e13, -7e13]);
  (await big.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).relu().get()).floatPrecision().print();
  const xx = big.fixPrecision().share(bob, charlie, { cryptoProvider: dan });
  (await xx.lt(xx.neg()).get()).floatPrecision().print();
})().catch((e) => { console.error("FAILED", e); process.exit(1); });
