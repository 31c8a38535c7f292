/**
 * The gateway's page: lists the models served with mpc that allow remote inference, takes an input
 * (numbers, a drawn digit, or an image), shares it in this browser, queries the holders directly over
 * WebSockets, reconstructs the logits here, and shows the prediction, a chart, the time taken and what
 * each node received. `window.tsyftPage` is the same flow for scripts (the browser test drives it).
 *
 * @example
 * ```ts
 * await window.tsyftPage.select("mlp"); window.tsyftPage.setNumbers([1, 2]); await window.tsyftPage.run();
 * ```
 */
import { PublicGridNetwork, hook, tf, type HostedModelInfo } from "../index";
import { drawChart, softmax } from "./chart";
import { DigitPad, imageValues, inputKind, queryShape, readNumbers, type InputKind } from "./inputs";
import { encryptedQuery, type QueryResult } from "./query";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** What the page did last, for people (on screen) and scripts (window.tsyftPage.last). */
interface LastQuery extends QueryResult {
  model: string;
  input: number[];
  inputShape: number[];
  prediction: string;
}

interface PageApi {
  ready: boolean;
  models: HostedModelInfo[];
  last?: LastQuery;
  error?: string;
  select(id: string): Promise<void>;
  setNumbers(values: number[]): void;
  digit: DigitPad;
  setImage(file: Blob): Promise<void>;
  run(): Promise<LastQuery>;
}

declare global {
  interface Window {
    tsyftPage: PageApi;
  }
}

/** Class names the tutorials use, by model shape; indices otherwise. */
function labelsFor(kind: InputKind, classes: number): string[] {
  if (kind === "image" && classes === 2) return ["bkl (benign keratosis)", "mel (melanoma)"];
  return Array.from({ length: classes }, (_, i) => String(i));
}

async function main(): Promise<void> {
  await tf.setBackend("cpu");
  const grid = new PublicGridNetwork(hook(tf), location.origin, { token: null });
  const digit = new DigitPad($<HTMLCanvasElement>("draw"));
  let selected: { info: HostedModelInfo; shape: number[]; kind: InputKind } | undefined;
  let imageInput: number[] | undefined;
  const status = $("status");
  const run = $<HTMLButtonElement>("run");

  const api: PageApi = {
    ready: false,
    models: [],
    digit,
    async select(id) {
      const info = api.models.find((m) => m.id === id);
      if (!info) throw new Error(`No model "${id}" is served with mpc here.`);
      $<HTMLSelectElement>("model").value = id;
      run.disabled = true;
      status.textContent = `Fetching the plan of ${id} (its ops and share ids; no weights)…`;
      const [shape] = await grid.inputShapes(id);
      selected = { info, shape: queryShape(shape!), kind: inputKind(shape!) };
      imageInput = undefined;
      $("model-info").textContent =
        `${info.description ?? ""} input ${JSON.stringify(shape)}; holders ${info.nodes.holders.join(", ")}, crypto provider ${info.nodes.provider}`;
      for (const k of ["numbers", "digit", "image"]) $(`input-${k}`).hidden = k !== selected.kind;
      $("image-size").textContent = `${shape![1]}×${shape![2]}`;
      status.textContent = "Ready.";
      run.disabled = false;
    },
    setNumbers(values) {
      $<HTMLInputElement>("numbers").value = values.join(", ");
    },
    async setImage(file) {
      const [, h, w] = selected!.shape;
      imageInput = await imageValues(file, h!, w!, $<HTMLCanvasElement>("preview"));
    },
    async run() {
      if (!selected) throw new Error("Pick a model first.");
      const { info, shape, kind } = selected;
      const size = shape.reduce((a, b) => a * b, 1);
      const values =
        kind === "numbers"
          ? readNumbers($<HTMLInputElement>("numbers").value, size)
          : kind === "digit"
            ? digit.values()
            : imageInput;
      if (!values) throw new Error("Choose an image file first.");
      const input = tf.tensor(values, shape);
      const result = await encryptedQuery(grid, info, input);
      input.dispose();
      const labels = labelsFor(kind, result.logits.length);
      const probabilities = result.logits.length > 1 ? softmax(result.logits) : result.logits;
      const best = probabilities.indexOf(Math.max(...probabilities));
      const prediction = result.logits.length > 1 ? labels[best]! : result.logits[0]!.toFixed(4);
      api.last = { ...result, model: info.id, input: values, inputShape: shape, prediction };
      show(api.last, labels, probabilities);
      return api.last;
    },
  };
  window.tsyftPage = api;

  async function show(last: LastQuery, labels: string[], probabilities: number[]): Promise<void> {
    $("result").hidden = false;
    $("prediction").textContent =
      last.logits.length > 1 ? `Prediction: ${last.prediction}` : `Output: ${last.prediction}`;
    $("timing").textContent =
      `${last.ms.toFixed(0)} ms from sharing the input to the reconstructed answer; logits ${last.logits.map((l) => l.toFixed(3)).join(", ")}.`;
    $("traffic").innerHTML =
      "<tr><th>node</th><th>role</th><th>sent to it</th><th>from it</th><th>what it got</th></tr>";
    for (const t of last.traffic) {
      const row = document.createElement("tr");
      for (const cell of [t.node, t.role, `${t.sentBytes} B`, `${t.receivedBytes} B`, t.got]) {
        const td = document.createElement("td");
        td.textContent = cell;
        row.append(td);
      }
      $("traffic").append(row);
    }
    await drawChart($("chart"), labels, probabilities, last.logits.length > 1 ? "probability" : "output");
  }

  const fail = (error: unknown) => {
    api.error = (error as Error)?.message ?? String(error);
    $("error").textContent = api.error;
  };
  $<HTMLSelectElement>("model").addEventListener("change", (e) =>
    api.select((e.target as HTMLSelectElement).value).catch(fail),
  );
  $("clear").addEventListener("click", () => digit.clear());
  $<HTMLInputElement>("image").addEventListener("change", (e) => {
    const file = (e.target as HTMLInputElement).files?.[0];
    if (file) api.setImage(file).catch(fail);
  });
  run.addEventListener("click", () => {
    $("error").textContent = "";
    run.disabled = true;
    status.textContent = "Sharing and querying…";
    api
      .run()
      .then(() => (status.textContent = "Done."), fail)
      .finally(() => (run.disabled = false));
  });

  api.models = (await grid.models()).filter((m) => m.mpc && m.allowRemoteInference);
  const select = $<HTMLSelectElement>("model");
  for (const m of api.models) select.add(new Option(m.id, m.id));
  if (api.models.length === 0) {
    status.textContent =
      "No model is served with mpc and remote inference on this grid yet (see the README: serving a model).";
  } else await api.select(api.models[0]!.id);
  api.ready = true;
}

main().catch((error: unknown) => {
  $("error").textContent = `The page could not start: ${(error as Error)?.message ?? String(error)}`;
});
