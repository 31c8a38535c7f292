import * as tf from "@tensorflow/tfjs";
import * as sy from "./src";
(async () => {
  const hook = sy.hook(tf);
  const [bob, charlie, dan] = ["bob", "charlie", "dan"].map((id) => new sy.VirtualWorker(hook, { id }));
  const x = tf.tensor([-6e13, -6.5e13, -6.9e13, -5e13, -4e13, -6e13, -7e13, -6.1e13, -6.2e13], [1, 3, 3, 1]);
  tf.maxPool(x as any, 2, 2, "same").print();
  (await x.fixPrecision().share(bob, charlie, { cryptoProvider: dan }).maxPool2d(2, 2, "same").get()).floatPrecision().print();
})();
