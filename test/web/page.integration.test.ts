/**
 * The gateway's page in a real browser (Debian's Chromium, headless, driven over the DevTools protocol;
 * nothing downloaded): a local grid serves the linear toy and a small MNIST-shaped MLP with mpc; the
 * page lists them, takes an input (numbers; a digit drawn on its canvas), shares it in the browser,
 * queries the holders over WebSockets and reconstructs the answer. Checked: the answer equals the Node
 * client's on the same input (within the one-unit error of share truncation), what the page sent each
 * holder (Chromium's own record of every WebSocket frame) holds no plaintext input in any encoding,
 * and a screenshot is kept in out/browser/. Prints the latency from the browser and from Node.
 */
import * as tf from "@tensorflow/tfjs";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { Browser, chromiumPath, type Page } from "../browser/cdp";

const root = path.resolve(__dirname, "../..");
const chromium = chromiumPath();
const WEB_DIR = path.join(root, "out/web-page-test");
const SCREENSHOT = path.join(root, "out/browser/web-page.png");

/** The linear toy of the PyGrid tutorial: fc1 = [2, 4], bias = [1000]. */
class Net extends sy.Plan {
  fc1 = tf.tensor([2.0, 4.0]);
  bias = tf.tensor([1000.0]);
  override forward(x: sy.TensorLike) {
    return sy.F.matmul(this.fc1, x).add(this.bias);
  }
}

/** A small MNIST-shaped MLP (784 -> 32 relu -> 10), weights from a fixed seed. */
function mlp(): tf.LayersModel {
  const model = tf.sequential();
  model.add(
    tf.layers.dense({
      inputShape: [784],
      units: 32,
      activation: "relu",
      kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
    }),
  );
  model.add(tf.layers.dense({ units: 10, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }));
  return model;
}

/** The ways a plaintext input could show on the wire: float32, float64, and fixed point (16 bits, int64 LE). */
function encodings(values: readonly number[]): Buffer[] {
  const fixed = (v: number) => BigInt(Math.round(v * 2 ** 16));
  return [
    Buffer.from(new Float32Array(values).buffer),
    Buffer.from(new Float64Array(values).buffer),
    Buffer.from(new BigInt64Array(values.map(fixed)).buffer),
  ];
}

interface PageQuery {
  model: string;
  input: number[];
  inputShape: number[];
  logits: number[];
  ms: number;
  prediction: string;
  traffic: { node: string; role: string; sentBytes: number; receivedBytes: number }[];
}

/** The skin-cancer tutorial's CNN (notebook 03's convNet: three 5x5 convolutions, three dense layers), seeded weights. */
function skinCancerCnn(): tf.LayersModel {
  const init = (i: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed: 10 + i }) });
  const conv = (i: number, extra = {}) =>
    tf.layers.conv2d({ filters: 32, kernelSize: 5, activation: "relu", ...init(i), ...extra });
  return tf.sequential({
    layers: [
      conv(1, { inputShape: [32, 32, 3] }),
      conv(2),
      conv(3),
      tf.layers.flatten(),
      tf.layers.dense({ units: 400, activation: "relu", ...init(4) }),
      tf.layers.dense({ units: 200, activation: "relu", ...init(5) }),
      tf.layers.dense({ units: 2, ...init(6) }),
    ],
  });
}

/** A melanoma image of the embedded HAM10000 subset (in the repo, so the test needs no data directory). */
const LESION = path.join(root, "data/embedded/ham10000-64px/images/mel/ISIC_0024400.jpg");

/** Gives the page the lesion image, as its file input does. */
const SET_LESION = `window.tsyftPage.setImage(new Blob([Uint8Array.from(atob("${fs.readFileSync(LESION).toString("base64")}"), (c) => c.charCodeAt(0))], { type: "image/jpeg" }))`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe.skipIf(!chromium)("the gateway's page in Chromium", () => {
  let grid: sy.grid.LocalGrid;
  let network: sy.PublicGridNetwork;
  let browser: Browser;
  let page: Page;
  /** Binary frames the page sent, by socket url (Chromium's Network.webSocketFrameSent). */
  const sent = new Map<string, Buffer[]>();

  beforeAll(async () => {
    // Its own build, served by the in-process gateway (TSYFT_WEB_DIR), so that a build of dist/web meanwhile is no race.
    execFileSync("node", ["scripts/build-web.mjs", "--outdir", WEB_DIR], { cwd: root, stdio: "pipe" });
    process.env.TSYFT_WEB_DIR = WEB_DIR;
    await tf.setBackend("cpu");
    const hook = sy.hook(tf);
    grid = await sy.grid.startLocalGrid({ ports: "random", inProcess: true, tf });
    network = new sy.PublicGridNetwork(hook, grid.gateway.url);
    const linear = new Net({ id: "linear" });
    await linear.build(tf.tensor([1.0, 2]));
    await network.serveModel(linear, {
      id: "linear",
      allowRemoteInference: true,
      mpc: true,
      description: "The linear toy.",
    });
    await network.serveModel(mlp(), { id: "mlp", allowRemoteInference: true, mpc: true, description: "An MNIST MLP." });
    await network.serveModel(skinCancerCnn(), {
      id: "cnn",
      allowRemoteInference: true,
      mpc: true,
      description: "The skin-cancer CNN.",
    });
    browser = await Browser.launch(chromium!, 1100, 1300);
    page = await browser.newPage();
    const urls = new Map<string, string>();
    page.on("Network.webSocketCreated", (p) => urls.set(p.requestId as string, (p.url as string).replace(/\/+$/, "")));
    page.on("Network.webSocketFrameSent", (p) => {
      const { opcode, payloadData } = p.response as { opcode: number; payloadData: string };
      const url = urls.get(p.requestId as string) ?? "?";
      if (opcode === 2) sent.set(url, [...(sent.get(url) ?? []), Buffer.from(payloadData, "base64")]);
    });
    await page.send("Network.enable");
    await page.goto(`${grid.gateway.url}/`);
    await page.waitFor("window.tsyftPage?.ready || window.tsyftPage?.error", "the page to list the models", 60_000);
  });

  afterAll(async () => {
    delete process.env.TSYFT_WEB_DIR;
    await browser?.close();
    await network?.close();
    await grid?.stop();
  });

  const query = async (model: string, setInput: string): Promise<PageQuery> => {
    await page.evaluate(`window.tsyftPage.select(${JSON.stringify(model)})`);
    await page.evaluate(setInput);
    return page.evaluate<PageQuery>("window.tsyftPage.run()");
  };

  const holderUrls = async (model: string) => {
    const info = (await network.models()).find((m) => m.id === model)!;
    return info.nodes.holders.map((h) => grid.node(h).url);
  };

  it("lists the models served with mpc", async () => {
    expect(await page.evaluate<string[]>("window.tsyftPage.models.map((m) => m.id).sort()")).toEqual([
      "cnn",
      "linear",
      "mlp",
    ]);
    expect(await page.evaluate("window.tsyftPage.error ?? null")).toBeNull();
  });

  it("the linear toy: the browser's answer is the Node client's, and no holder saw the input", async () => {
    sent.clear();
    const input = [123.25, -45.5];
    const fromPage = await query("linear", `window.tsyftPage.setNumbers(${JSON.stringify(input)})`);
    const fromNode = await network.runRemoteInference("linear", tf.tensor(input), { mpc: true });
    // Each share truncation may be off by one unit (2^-16); the plaintext answer is 2*123.25 + 4*(-45.5) + 1000.
    expect(fromPage.logits[0]).toBeCloseTo(fromNode.dataSync()[0]!, 3);
    expect(fromPage.logits[0]).toBeCloseTo(1064.5, 3);
    const holders = await holderUrls("linear");
    for (const url of holders) {
      const wire = Buffer.concat(sent.get(url) ?? []);
      expect(wire.length, `the page sent ${url} its share`).toBeGreaterThan(0);
      for (const value of input)
        for (const plain of encodings([value]))
          expect(wire.includes(plain), `${url} got ${value} in the clear`).toBe(false);
    }
    const roles = Object.fromEntries(fromPage.traffic.map((t) => [t.node, t.role]));
    expect(Object.values(roles).filter((r) => r === "share holder")).toHaveLength(2);
  });

  it("a digit drawn on the canvas, through the MLP: same logits and class as Node, no pixel in the clear", async () => {
    sent.clear();
    const stroke = JSON.stringify([
      [140, 40],
      [150, 140],
      [140, 240],
    ]);
    const fromPage = await query("mlp", `window.tsyftPage.digit.clear(); window.tsyftPage.digit.stroke(${stroke})`);
    expect(fromPage.inputShape).toEqual([1, 784]);
    expect(fromPage.input.filter((v) => v > 0).length).toBeGreaterThan(20);
    const fromNode = Array.from(
      (await network.runRemoteInference("mlp", tf.tensor(fromPage.input, [1, 784]), { mpc: true })).dataSync(),
    );
    const plain = Array.from((mlp().predict(tf.tensor(fromPage.input, [1, 784])) as tf.Tensor).dataSync());
    fromPage.logits.forEach((l, i) => {
      expect(l).toBeCloseTo(fromNode[i]!, 2);
      expect(l).toBeCloseTo(plain[i]!, 1);
    });
    expect(fromPage.prediction).toBe(String(fromNode.indexOf(Math.max(...fromNode))));
    const lit = fromPage.input.filter((v) => v > 0);
    for (const url of await holderUrls("mlp")) {
      const wire = Buffer.concat(sent.get(url) ?? []);
      expect(wire.length).toBeGreaterThan(784 * 8);
      for (const plainBytes of encodings(fromPage.input)) expect(wire.includes(plainBytes)).toBe(false);
      for (const plainBytes of encodings(lit).flatMap((b) => [b.subarray(0, 16)]))
        expect(wire.includes(plainBytes)).toBe(false);
    }
    await page.waitFor("document.querySelector('#chart svg')", "the chart", 20_000);
    await page.screenshot(SCREENSHOT);
    expect(fs.statSync(SCREENSHOT).size).toBeGreaterThan(10_000);
  });

  it("a skin-lesion image through the tutorial's CNN: resized and normalized in the page, same answer as Node", async () => {
    sent.clear();
    const fromPage = await query("cnn", SET_LESION);
    expect(fromPage.inputShape).toEqual([1, 32, 32, 3]);
    // Normalized with HAM10000's mean and std: values around 0, some negative, none of them pixels in [0, 1] only.
    expect(Math.min(...fromPage.input)).toBeLessThan(0);
    const x = tf.tensor(fromPage.input, [1, 32, 32, 3]);
    const fromNode = Array.from((await network.runRemoteInference("cnn", x, { mpc: true })).dataSync());
    const plain = Array.from((skinCancerCnn().predict(x) as tf.Tensor).dataSync());
    fromPage.logits.forEach((l, i) => {
      expect(Math.abs(l - fromNode[i]!)).toBeLessThan(0.02);
      expect(Math.abs(l - plain[i]!)).toBeLessThan(0.05);
    });
    expect(fromPage.prediction).toMatch(/^(bkl|mel) /);
    for (const url of await holderUrls("cnn")) {
      const wire = Buffer.concat(sent.get(url) ?? []);
      expect(wire.length).toBeGreaterThan(3072 * 8);
      for (const plainBytes of encodings(fromPage.input)) expect(wire.includes(plainBytes.subarray(0, 64))).toBe(false);
    }
  });

  it("latency: encrypted queries from the browser and from the Node client, same grid and models", async () => {
    const runs = 5;
    const rows: string[] = [];
    const inputs: Record<string, { set: string; tensor: () => tf.Tensor }> = {
      linear: { set: "window.tsyftPage.setNumbers([5, 3])", tensor: () => tf.tensor([5, 3]) },
      mlp: { set: "window.tsyftPage.digit.stroke([[100, 100], [180, 180]])", tensor: () => tf.zeros([1, 784]) },
      cnn: { set: SET_LESION, tensor: () => tf.zeros([1, 32, 32, 3]) },
    };
    for (const [model, { set, tensor }] of Object.entries(inputs)) {
      const browserMs: number[] = [];
      const nodeMs: number[] = [];
      for (let i = 0; i < runs; i++) browserMs.push((await query(model, set)).ms);
      for (let i = 0; i < runs; i++) {
        const started = performance.now();
        await network.runRemoteInference(model, tensor(), { mpc: true });
        nodeMs.push(performance.now() - started);
      }
      rows.push(
        `| ${model.padEnd(6)} | ${median(browserMs).toFixed(0).padStart(7)} | ${median(nodeMs).toFixed(0).padStart(7)} |`,
      );
      expect(browserMs.every((ms) => ms > 0)).toBe(true);
    }
    console.log(
      [
        `encrypted query latency, median of ${runs} (ms), loopback grid:`,
        "| model  | browser |    node |",
        "|--------|---------|---------|",
        ...rows,
      ].join("\n"),
    );
  });
});

if (!chromium) {
  describe("the gateway's page (skipped)", () => {
    it.skip("needs Debian's chromium (apt-get install chromium) or TSYFT_CHROMIUM", () => undefined);
  });
}
