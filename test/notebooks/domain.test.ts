/**
 * The domain tutorials (issue 13), quick mode (TSYFT_QUICK=1): 09-domain-owner (the data owner: a domain started
 * from code, PySyft's default account and its warning, the password changed, the IDC patches uploaded, a data
 * scientist created, requests answered) and 10-domain-remote-training (the data scientist: a get() refused, the
 * three training flows, weights published, a publish refused for lack of budget, held-out accuracies) run at the
 * same time, first through the headless runner (which pairs them by 09's metadata), then through real Jupyter: two
 * nbconvert processes, two kernels.
 *
 * Checked each time, from the outputs: the warning verbatim and only once; the refused get() with its code and its
 * advice; the budget arithmetic (the charge equals this test's own RDPAccountant epsilon for the steps 10 printed,
 * and the budget went down by it); the refused publish left the budget unchanged; 09's final users table shows
 * what 10 was charged; the accuracies are numbers in [0, 1]; and the domain is gone afterwards (its port is free).
 * Each run gets a free port through TSYFT_DOMAIN_PORT, so nothing here uses the tutorials' 8081.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { freePorts } from "../../bench/suites/keras-clients";
import { testDataDir } from "../data/helpers";
import { REPO, RUNNER, distProblem, pythonProblem, run, tempJupyterPath } from "../kernel/helpers";
import { DEFAULT_ACCOUNT_WARNING } from "../../src/domain";
import { RDPAccountant } from "../../src/dp/accountant";
import { checkRanEveryCell, nbconvertExecute, readExecuted, scratch, type Notebook } from "./executed";

const NOTEBOOKS = path.join(REPO, "notebooks");
const OWNER = "09-domain-owner.ipynb";
const SCIENTIST = "10-domain-remote-training.ipynb";
const BUDGET = 10; // what 09 gives the data scientist
// What 09 loads in quick mode: every fourth patch of the full subset when the data dir has it, else the embedded 400.
const full = fs.existsSync(path.join(testDataDir, "idc", "index.csv"));
const subset = full ? { kind: "full", said: "the full subset: 8,988 patches", loaded: 2247 } : { kind: "embedded", said: "the embedded subset", loaded: 400 };
const DELTA = 1e-5;

const { children, temps, tempDir } = scratch();

function notebookEnv(port: number): Record<string, string> {
  return { TSYFT_QUICK: "1", TSYFT_DATA_DIR: testDataDir, TSYFT_DOMAIN_PORT: String(port) };
}

/** A free port, and the data dir 09 makes for it (beside the notebooks), removed after the test file. */
async function domainPort(): Promise<number> {
  const [port] = await freePorts(1);
  temps.push(path.join(NOTEBOOKS, "out", `domain-${port}`));
  return port!;
}

/** The number a regular expression's first group caught in `text` (failing the test when absent). */
function numberAfter(text: string, pattern: RegExp): number {
  const match = pattern.exec(text);
  expect(match, `${pattern} in:\n${text.slice(-3000)}`).not.toBeNull();
  return Number(match![1]);
}

/** Whether nothing answers on `port` any more. */
async function nothingAnswers(port: number): Promise<boolean> {
  return fetch(`http://127.0.0.1:${port}/health`).then(
    () => false,
    () => true,
  );
}

/** What the executed pair must show, whoever ran it. */
async function checkPair(owner: Notebook, scientist: Notebook, port: number): Promise<void> {
  const own = checkRanEveryCell(owner, OWNER);
  const sci = checkRanEveryCell(scientist, SCIENTIST);

  // 09: the default account's warning, verbatim, once: after the password change the login is quiet.
  expect(own).toContain(DEFAULT_ACCOUNT_WARNING);
  expect(own.split("WARNING: CHANGE YOUR").length - 1).toBe(1);
  expect(own).toContain("logged in again as Owner info@openmined.org: no warning this time");
  expect(own).toContain(`domain "Hospital A" listening on http://127.0.0.1:${port}`);
  expect(own).toContain(`IDC patches: ${subset.said}`);
  expect(own).toContain(`loaded ${subset.loaded} patches (${subset.kind} subset)`);
  expect(own).toMatch(/Ada Lovelace \| ada@example\.org +\| Data Scientist \| 10 +\| 0 /);
  expect(own).toMatch(/answer: denied/);
  expect(own).toMatch(/answer: accepted/);
  expect(own).toContain(`domain closed: nothing answers on port ${port} any more`);

  // 10: shapes public, values refused with the typed error and its advice.
  const uploaded = numberAfter(sci, /AssetPointer train_images: float32 \[(\d+), 16, 16, 3\] \(values private\)/);
  expect(sci).toContain(`AssetPointer train_labels: int32 [${uploaded}] (values private)`);
  expect(sci).toContain("get() refused: TSYFT_ERR_PERMISSION");
  expect(sci).toMatch(/You may not get\(\) asset train_images: its values are private\. Ask the data owner with ptr\.request\(\{ reason \}\)/);
  expect(sci).toContain("the owner denied it");

  // The budget arithmetic, recomputed here from the plan 10 printed.
  const plan = /DP-SGD plan: sigma 1\.1, q = (\d+)\/(\d+) = [\d.]+, (\d+) steps x (\d+) epochs = (\d+) steps/.exec(sci);
  expect(plan, sci.slice(-3000)).not.toBeNull();
  const [batch, nTrain, perEpoch, epochs, steps] = plan!.slice(1).map(Number) as [number, number, number, number, number];
  expect(batch).toBe(full ? 64 : 32); // 10 takes smaller batches on the embedded 400
  expect(nTrain).toBe(uploaded - Math.floor(uploaded * 0.1));
  expect(perEpoch).toBe(Math.floor(nTrain / batch));
  expect(steps).toBe(perEpoch * epochs);
  const fitEpsilon = new RDPAccountant().step({ noiseMultiplier: 1.1, sampleRate: batch / nTrain, steps }).getEpsilon(DELTA);
  const before = numberAfter(sci, /privacy budget before publishing: ([\d.]+)/);
  const after = numberAfter(sci, /privacy budget after publishing: +([\d.]+)/);
  const charged = numberAfter(sci, /charged: ([\d.]+) \(delta/);
  expect(before).toBe(BUDGET);
  expect(charged).toBeCloseTo(fitEpsilon, 9);
  expect(before - after).toBeCloseTo(fitEpsilon, 9);
  expect(numberAfter(sci, /sy\.dp\.RDPAccountant for \d+ steps at sigma 1\.1, q [\d.]+: ([\d.]+)/)).toBeCloseTo(fitEpsilon, 9);
  expect(sci).toMatch(/published again: charged false/);
  expect(sci).toMatch(/\(unchanged: nothing published\)/);

  // The refused publish: four chosen batches cost more than what is left, nothing charged.
  const stepEpsilon = new RDPAccountant().step({ noiseMultiplier: 1.1, sampleRate: 1, steps: 4 }).getEpsilon(DELTA);
  expect(sci).toContain("publish refused: TSYFT_ERR_PRIVACY_BUDGET");
  expect(sci).toMatch(/Releasing this needs epsilon [\d.]+ but only [\d.]+ of your budget 10 is left; nothing was released/);
  const attempt = /privacy budget before the attempt: ([\d.]+), after: ([\d.]+) \(unchanged\)/.exec(sci);
  expect(attempt, sci.slice(-3000)).not.toBeNull();
  expect(Number(attempt![1])).toBe(Number(attempt![2]));
  expect(Number(attempt![1])).toBeCloseTo(BUDGET - fitEpsilon, 9);
  const asked = numberAfter(sci, /asked for epsilon ([\d.]+): accepted/);
  expect(asked).toBeGreaterThanOrEqual(stepEpsilon - (BUDGET - fitEpsilon));
  expect(numberAfter(sci, /published flow III's weights: charged ([\d.]+)/)).toBeCloseTo(stepEpsilon, 9);

  // 09's last users table: the budget it granted and what 10 was charged.
  expect(numberAfter(own, /Ada Lovelace: budget ([\d.]+),/)).toBeCloseTo(BUDGET + asked, 9);
  expect(numberAfter(own, /Ada Lovelace: budget [\d.]+, spent ([\d.]+),/)).toBeCloseTo(fitEpsilon + stepEpsilon, 9);

  // The accuracies on the held-out patches.
  for (const pattern of [/held-out accuracy with DP \(published, epsilon [\d.]+\): ([\d.]+)/, /held-out accuracy without DP \(trained here\): ([\d.]+)/]) {
    const accuracy = numberAfter(sci, pattern);
    expect(accuracy).toBeGreaterThanOrEqual(0);
    expect(accuracy).toBeLessThanOrEqual(1);
  }
  expect(sci).toContain(`${subset.kind} subset: ${uploaded} training patches (as on the domain), ${subset.loaded - uploaded} held out`);

  // The domain lived in 09's kernel and is gone with it.
  expect(await nothingAnswers(port)).toBe(true);
}

describe("domain notebooks through the headless runner (TSYFT_QUICK=1)", () => {
  it("09 and 10 run side by side: warning, refused get, budget at the accountant's epsilon, refused publish", async () => {
    const problem = distProblem();
    if (problem) throw new Error(problem);
    const port = await domainPort();
    const out = tempDir("tsyft-domain-runner-");
    const result = await run(process.execPath, [RUNNER, path.join(NOTEBOOKS, OWNER), "--out", out], {
      env: { ...process.env, ...notebookEnv(port) },
      timeoutMs: 900_000,
      track: children,
    });
    const log = result.stdout + result.stderr;
    expect(result.code, log.slice(-4000)).toBe(0);
    expect(log).toContain(`▶ ${OWNER} + ${SCIENTIST} (side by side)`);
    for (const name of [OWNER, SCIENTIST]) expect(log).toMatch(new RegExp(`${name.replace(".", "\\.")}\\s+\\d+\\s+0\\s+[\\d.]+\\s+ok`));
    await checkPair(readExecuted(out, OWNER), readExecuted(out, SCIENTIST), port);
  }, 960_000);
});

const jupyterProblem = pythonProblem(["jupyter_client", "nbconvert", "nbclient"]);
describe.skipIf(Boolean(jupyterProblem))(`domain notebooks through real Jupyter${jupyterProblem ? ` (skipped: ${jupyterProblem})` : ""}`, () => {
  it("09 and 10 in two kernels at once: the same story", async () => {
    const problem = distProblem();
    if (problem) throw new Error(problem);
    const jupyter = tempJupyterPath();
    temps.push(jupyter.jupyterPath);
    const outDir = tempDir("tsyft-domain-nbconvert-");
    const port = await domainPort();
    const nbconvert = (name: string) =>
      nbconvertExecute(path.join(NOTEBOOKS, name), {
        outDir,
        jupyter,
        env: notebookEnv(port),
        cellTimeoutSeconds: 700,
        timeoutMs: 900_000,
        track: children,
      });
    const [owner, scientist] = await Promise.all([nbconvert(OWNER), nbconvert(SCIENTIST)]);
    expect(owner.code, `nbconvert ${OWNER} failed:\n${owner.stderr.slice(-4000)}`).toBe(0);
    expect(scientist.code, `nbconvert ${SCIENTIST} failed:\n${scientist.stderr.slice(-4000)}`).toBe(0);
    await checkPair(readExecuted(outDir, OWNER), readExecuted(outDir, SCIENTIST), port);
  }, 960_000);
});
