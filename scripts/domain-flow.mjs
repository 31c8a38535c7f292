#!/usr/bin/env node
/**
 * The domain node end to end, with nothing but tsyft's public API and its CLI
 * (issue 13's "done when"): `tsyft domain` started as a process in a temp dir,
 * the owner's first login with PySyft's default password (the warning), the
 * password changed (no warning), BreastCancerDataset uploaded as private
 * assets, a data scientist created with a budget, `get()` refused, a small
 * model trained by `fit` with its progress polled, the weights published and
 * the budget reduced by exactly the accountant's epsilon, a publish over budget
 * refused with nothing released, then the domain stopped and started again on
 * the same data dir and all of it still there. Exits 0 when every check holds.
 *
 *   npm run build && node scripts/domain-flow.mjs
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as readline from "node:readline";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs";
import * as sy from "tsyft";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const NAME = "Hospital IDC";
const OWNER = { email: "info@openmined.org", password: "changethis" };
const NEW_OWNER_PASSWORD = "a-long-owner-passphrase";
const SCIENTIST = { name: "Ada", email: "ada@example.org", password: "ada-secret" };
const SIZE = 16;
const PER_CLASS = 24;
const DP = { noiseMultiplier: 1.1, clipNorm: 1 };
const FIT = { maxIter: 2, batchSize: 12, validationSplit: 0.25, dp: DP };
const DELTA = 1e-5;

let checks = 0;
function check(condition, what) {
  if (!condition) throw new Error(`domain-flow: check failed: ${what}`);
  checks++;
  console.log(`  ok ${checks}: ${what}`);
}

/** `tsyft domain` as a child process; resolves with its url once it prints its listening line. */
function startDomainProcess(dataDir) {
  const child = spawn(
    process.execPath,
    [path.join(repo, "bin", "tsyft.js"), "domain", "--name", NAME, "--port", "0", "--data-dir", dataDir],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tsyft domain did not listen within 120 s:\n${stderr}`)), 120_000);
    child.once("exit", (code) => reject(new Error(`tsyft domain exited (${code}) before listening:\n${stderr}`)));
    readline.createInterface({ input: child.stdout }).on("line", (line) => {
      if (!line.startsWith("{")) return;
      const info = JSON.parse(line);
      if (info.event !== "listening") return;
      clearTimeout(timer);
      resolve({ child, url: info.url });
    });
  });
}

function stopDomainProcess(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Rejects unless `promise` fails with the typed error `code`; answers the error. */
async function refused(promise, code) {
  try {
    await promise;
  } catch (error) {
    if (error.code === code) return error;
    throw error;
  }
  throw new Error(`domain-flow: expected ${code}, but the call succeeded`);
}

const network = () =>
  new sy.nn.Model()
    .add(sy.nn.Convolution(4, 3, { inputShape: [null, SIZE, SIZE, 3], activation: "relu" }))
    .add(sy.nn.MaxPool(2))
    .add(sy.nn.Flatten())
    .add(sy.nn.Linear(1, { activation: "sigmoid" }));

async function main() {
  await sy.useWasmBackend(tf);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-domain-flow-"));
  let domain = await startDomainProcess(dataDir);
  try {
    console.log(`domain ${NAME} at ${domain.url} (data in a temp dir)`);

    // The owner: PySyft's default credentials print the warning; after a change they do not.
    const printed = [];
    let owner = await sy.login({ ...OWNER, url: domain.url, log: (m) => printed.push(m) });
    check(printed.includes(sy.domain.DEFAULT_ACCOUNT_WARNING), "the default-password warning is printed verbatim");
    await owner.changePassword({ oldPassword: OWNER.password, newPassword: NEW_OWNER_PASSWORD });
    printed.length = 0;
    owner = await sy.login({
      email: OWNER.email,
      password: NEW_OWNER_PASSWORD,
      url: domain.url,
      log: (m) => printed.push(m),
    });
    check(!printed.some((m) => m.startsWith("WARNING")), "no warning once the password is changed");

    // BreastCancerDataset: IDC patches (the embedded subset), bounds [0, 1], patient ids as data subjects.
    const taken = [0, 0];
    const idc = await sy.data.loadIdc({
      source: "embedded",
      size: SIZE,
      filter: (row) => taken[row.label]++ < PER_CLASS,
    });
    await owner.loadDataset({
      name: "BreastCancerDataset",
      description: `IDC histopathology patches, ${SIZE}x${SIZE}, ${idc.images.shape[0]} of them`,
      assets: {
        train_images: sy.dp.private(idc.images, { min: 0, max: 1, dataSubjects: idc.patientIds }),
        train_labels: sy.dp.private(idc.labels, { min: 0, max: 1, dataSubjects: idc.patientIds }),
      },
    });
    // The domain trains on the examples not held out, in Poisson batches of batchSize expected (rate q), 1/q a pass.
    const trainCount = Math.round((1 - FIT.validationSplit) * idc.images.shape[0]);
    const stepsPerEpoch = Math.round(trainCount / FIT.batchSize);
    const accountant = new sy.dp.RDPAccountant().step({
      noiseMultiplier: DP.noiseMultiplier,
      sampleRate: FIT.batchSize / trainCount,
      steps: FIT.maxIter * stepsPerEpoch,
    });
    const fitEpsilon = accountant.getEpsilon(DELTA);
    const budget = fitEpsilon * 1.5; // enough for one such fit, not two
    await owner.createUser({ ...SCIENTIST, budget });
    check(
      (await owner.users).some((u) => u.email === SCIENTIST.email),
      "the data scientist is in domain.users",
    );

    // The data scientist: sees the dataset's shapes, never its values.
    const ds = await sy.login({ email: SCIENTIST.email, password: SCIENTIST.password, url: domain.url, log: false });
    const dataset = (await ds.datasets)[0];
    const [images, labels] = [dataset["train_images"], dataset["train_labels"]];
    check(images.shape.join("x") === `${2 * PER_CLASS}x${SIZE}x${SIZE}x3`, "the pointer shows the shape");
    const denied = await refused(images.get(), sy.ErrorCode.PERMISSION);
    check(/request/.test(denied.message), `get() is refused and says how to ask: "${denied.message.split("\n")[0]}"`);

    // Flow II: compile to the domain, fit with DP-SGD as a job, progress polled.
    const model = await network().compile({ to: ds, loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.Adamax() });
    await model.fit(images, labels, FIT);
    let progress = await model.progress();
    for (let polls = 0; progress.status === "queued" || progress.status === "running"; polls++) {
      if (polls > 2400) throw new Error("domain-flow: the fit did not finish within 2 minutes");
      await new Promise((resolve) => setTimeout(resolve, 50));
      progress = await model.progress();
    }
    check(
      progress.status === "done" && progress.steps === FIT.maxIter * stepsPerEpoch,
      `the fit is done after ${progress.steps} steps`,
    );
    check(progress.epochs.length === FIT.maxIter, `progress has one row per epoch: ${JSON.stringify(progress.epochs)}`);

    const before = await ds.privacyBudget;
    const published = await model.weights().publish();
    const after = await ds.privacyBudget;
    check(
      Math.abs(published.epsilon - fitEpsilon) <= 1e-9 * fitEpsilon,
      `publish charged the accountant's epsilon ${fitEpsilon.toFixed(4)}`,
    );
    check(
      Math.abs(before - after - fitEpsilon) <= 1e-9 * budget,
      `the budget went from ${before.toFixed(4)} to ${after.toFixed(4)}`,
    );
    const weights = published.get();
    check(weights.length > 0, `the published weights are released (${weights.length} tensors)`);

    // A second fit costs as much again, more than is left: refused, nothing released or charged.
    const second = await network().compile({ to: ds, loss: sy.nn.BinaryCrossEntropy(), optimizer: sy.nn.Adamax() });
    const job = await second.fit(images, labels, FIT);
    await job.wait();
    const overBudget = await refused(second.weights().publish(), sy.ErrorCode.PRIVACY_BUDGET);
    check(
      (await ds.privacyBudget) === after,
      `a publish over budget is refused, budget unchanged: "${overBudget.message.split("\n")[0]}"`,
    );

    // Restart: the same data dir, everything still there.
    await stopDomainProcess(domain.child);
    domain = await startDomainProcess(dataDir);
    const back = await sy.login({ email: SCIENTIST.email, password: SCIENTIST.password, url: domain.url, log: false });
    check((await back.privacyBudget) === after, "after a restart the budget is what it was");
    const again = (await back.datasets)[0];
    check(
      again.name === "BreastCancerDataset" && again["train_images"].shape[0] === 2 * PER_CLASS,
      "the dataset is still there",
    );
    const state = await back.job(model.jobId).state();
    check(state.job.status === "done" && state.progress.length > 0, "the job and its progress are still there");
    const republished = await back.job(model.jobId).weights().publish();
    check(
      !republished.charged && (await back.privacyBudget) === after,
      "publishing the same weights again costs nothing",
    );
    const same = republished
      .get()[0]
      .dataSync()
      .every((v, i) => v === weights[0].dataSync()[i]);
    check(same, "and gives the same weights");
    await refused(sy.login({ ...OWNER, url: domain.url, log: false }), sy.ErrorCode.AUTH);
    check(true, "the default password no longer works after the restart");
    const users = await (
      await sy.login({ email: OWNER.email, password: NEW_OWNER_PASSWORD, url: domain.url, log: false })
    ).users;
    const ada = users.find((u) => u.email === SCIENTIST.email);
    check(Math.abs(ada.spent - fitEpsilon) <= 1e-9 * budget, "the owner sees the spend in domain.users");
    console.log(`domain-flow: all ${checks} checks passed`);
  } finally {
    await stopDomainProcess(domain.child);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
