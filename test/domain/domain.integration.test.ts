/**
 * The domain end to end, in process on port 0 with a temp data dir: login and
 * PySyft's warnings, roles checked by the server, a dataset a data scientist
 * cannot see, requests, remote ops, publish charged to the budget (also under
 * concurrent publishes), and a restart that keeps all of it.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sy from "../../src";
import { ErrorCode, TsyftError } from "../../src/core/errors";
import { DISPLAY } from "../../src/core/display-protocol";
import { RDPAccountant } from "../../src/dp/accountant";
import {
  DEFAULT_ACCOUNT_WARNING,
  DEFAULT_PASSWORD_WARNING,
  login,
  startDomain,
  type Domain,
  type DomainClient,
} from "../../src/domain";
import { clientKey } from "../../src/grid/auth/credentials";
import { httpProof } from "../../src/grid/auth/gateway-proofs";
import { httpJson } from "../../src/grid/http-util";
import { failure } from "./helpers";

// 12 images of 2x2 in [0, 1] from 4 patients (3 rows each) and their labels.
const images = tf.tensor3d(
  Array.from({ length: 48 }, (_, i) => ((i * 7) % 11) / 10),
  [12, 2, 2],
);
const labels = tf.tensor1d([0, 1, 1, 0, 1, 0, 0, 1, 1, 1, 0, 0], "int32");
const patients = ["p1", "p1", "p1", "p2", "p2", "p2", "p3", "p3", "p3", "p4", "p4", "p4"];
const NEW_PASSWORD = "a-better-secret";

describe("domain node", () => {
  let dataDir: string;
  let domain: Domain;
  let owner: DomainClient;
  let scientist: DomainClient;
  const logs: string[] = [];

  beforeAll(async () => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tsyft-domain-"));
    domain = await startDomain({ name: "Hospital A", dataDir, port: 0 });
  });

  afterAll(async () => {
    await domain?.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("logs the owner in with PySyft's default account, printing its warning verbatim", async () => {
    owner = await login({
      email: "info@openmined.org",
      password: "changethis",
      url: domain.url,
      log: (m) => logs.push(m),
    });
    expect(logs[0]).toBe(DEFAULT_ACCOUNT_WARNING);
    expect(logs[0]).toBe(
      "WARNING: CHANGE YOUR USERNAME AND PASSWORD!!! \n\nAnyone can login as an admin to your node right now because your password is still the default PySyft username and password!!!\n",
    );
    expect(logs[1]).toMatch(/^Connecting to 127\.0\.0\.1\.\.\. done! \t Logging into Hospital A\.\.\. done!$/);
    expect(owner.user).toMatchObject({ email: "info@openmined.org", role: "Owner" });
  });

  it("answers a wrong password and an unknown email alike, without saying which", async () => {
    const wrong = await failure(
      login({ email: "info@openmined.org", password: "nope-nope", url: domain.url, log: false }),
    );
    const unknown = await failure(
      login({ email: "who@example.org", password: "nope-nope", url: domain.url, log: false }),
    );
    expect(wrong.code).toBe(ErrorCode.AUTH);
    expect(unknown.code).toBe(ErrorCode.AUTH);
    expect(wrong.message).toBe(unknown.message);
    expect(wrong.message).toMatch(/Incorrect email or password/);
  });

  it("lets the owner change the default password: the warning stops and older sessions end", async () => {
    const other = await login({ email: "info@openmined.org", password: "changethis", url: domain.url, log: false });
    await owner.changePassword({ oldPassword: "changethis", newPassword: NEW_PASSWORD });
    expect((await owner.users).map((u) => u.email)).toContain("info@openmined.org");
    expect((await failure(other.users)).code).toBe(ErrorCode.SESSION_EXPIRED);
    const quiet: string[] = [];
    owner = await login({
      email: "info@openmined.org",
      password: NEW_PASSWORD,
      url: domain.url,
      log: (m) => quiet.push(m),
    });
    expect(quiet.some((m) => m.startsWith("WARNING"))).toBe(false);
    const ada: string[] = [];
    await login({ email: "x@example.org", password: "changethis", url: domain.url, log: (m) => ada.push(m) }).catch(
      () => undefined,
    );
    expect(ada[0]).toBe(DEFAULT_PASSWORD_WARNING);
  });

  it("creates a data scientist with a budget, who may not manage users or upload", async () => {
    const user = await owner.createUser({ name: "Ada", email: "ada@example.org", password: "ada-secret", budget: 0 });
    expect(user).toMatchObject({ role: "Data Scientist", budget: 0, spent: 0 });
    scientist = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    const denied = await failure(scientist.users);
    expect(denied.code).toBe(ErrorCode.PERMISSION);
    expect(denied.message).toMatch(/Data Scientist and may not list the domain's users/);
    expect((await failure(scientist.createUser({ name: "B", email: "b@x.org", password: "bbbbbbbb" }))).code).toBe(
      ErrorCode.PERMISSION,
    );
    const upload = scientist.loadDataset({ name: "mine", assets: { x: sy.dp.private(labels, { min: 0, max: 1 }) } });
    expect((await failure(upload)).code).toBe(ErrorCode.PERMISSION);
    const users = await owner.users;
    const bundle = users[DISPLAY]();
    expect(bundle["text/html"]).toMatch(
      /<th[^>]*>Name<\/th><th[^>]*>Email<\/th><th[^>]*>Role<\/th><th[^>]*>Budget<\/th><th[^>]*>Spent<\/th><th[^>]*>Created at<\/th>/,
    );
  });

  it("uploads a dataset; the data scientist sees its table and pointers, never its values", async () => {
    await owner.loadDataset({
      name: "BreastCancerDataset",
      description: "IDC patches",
      assets: {
        train_images: sy.dp.private(images, { min: 0, max: 1, dataSubjects: patients }),
        train_labels: sy.dp.private(labels, { min: 0, max: 1, dataSubjects: patients }),
      },
      source: "test",
    });
    const datasets = await scientist.datasets;
    expect(datasets).toHaveLength(1);
    const html = String(datasets[DISPLAY]()["text/html"]);
    for (const column of ["Idx", "Name", "Description", "Assets", "Id"]) expect(html).toContain(`>${column}</th>`);
    expect(html).toContain("BreastCancerDataset");
    const dataset = datasets[0]!;
    expect(dataset[DISPLAY]()["text/plain"]).toMatch(/Asset Key +\| Type +\| Shape/);
    const pointer = dataset["train_images"];
    expect(pointer.shape).toEqual([12, 2, 2]);
    expect(pointer.dtype).toBe("float32");
    expect(String(pointer)).toContain("values private");
    const refused = await failure(pointer.get());
    expect(refused.code).toBe(ErrorCode.PERMISSION);
    expect(refused.message).toMatch(/ptr\.request\(\{ reason \}\)/);
  });

  it("puts a data scientist's request in the owner's requests; once accepted, get() works", async () => {
    const labelsPtr = (await scientist.datasets)[0]!["train_labels"];
    const request = await labelsPtr.request({ reason: "check the class balance" });
    expect(request.status).toBe("pending");
    const pending = await owner.requests;
    expect(pending[0]!.info).toMatchObject({ userEmail: "ada@example.org", reason: "check the class balance" });
    await pending[0]!.accept();
    const values = await labelsPtr.get();
    expect(Array.from(await values.data())).toEqual(Array.from(await labels.data()));
    expect((await failure((await scientist.datasets)[0]!["train_images"].get())).code).toBe(ErrorCode.PERMISSION);
  });

  it("runs slices, sums and means on the domain as new pointers", async () => {
    const ptr = (await owner.datasets)[0]!["train_images"];
    const part = await ptr.slice([3], [6]);
    expect(part.shape).toEqual([6, 2, 2]);
    const mean = await part.mean(0);
    expect(mean.shape).toEqual([2, 2]);
    const total = await (await ptr.sum([1, 2])).sum();
    expect(total.shape).toEqual([]);
    const expected = tf.mean(tf.slice(images, [3], [6]), 0);
    expect(Array.from(await (await mean.get()).data())).toEqual(
      Array.from(await expected.data()).map((v) => expect.closeTo(v, 6)),
    );
    expect((await (await total.get()).data())[0]).toBeCloseTo((await images.sum().data())[0]!, 4);
  });

  it("publishes a noisy mean charged to the budget, and refuses past it with nothing released", async () => {
    // mean over rows of [12, 2, 2] in [0, 1], 3 rows per patient: L2 sensitivity 1 * 3 * sqrt(4) / 12 = 0.5.
    const sigma = 2;
    const epsilon = new RDPAccountant().step({ noiseMultiplier: sigma / 0.5, sampleRate: 1 }).getEpsilon(1e-5);
    const me = (await owner.users).find((u) => u.email === "ada@example.org")!;
    await owner.updateUser(me.id, { budget: 2.5 * epsilon });
    expect(await scientist.privacyBudget).toBeCloseTo(2.5 * epsilon, 12);
    const mean = await (await scientist.datasets)[0]!["train_images"].mean(0);
    const released = await mean.publish({ sigma });
    expect(released.sensitivity).toBeCloseTo(0.5, 12);
    expect(released.epsilon).toBeCloseTo(epsilon, 12);
    expect(released.privacyBudget).toBeCloseTo(1.5 * epsilon, 12);
    expect((await released.get()).shape).toEqual([2, 2]);
    await mean.publish({ sigma });
    const over = await failure(mean.publish({ sigma }));
    expect(over.code).toBe(ErrorCode.PRIVACY_BUDGET);
    expect(over.details.needed).toBeCloseTo(epsilon, 12);
    expect(over.details.left).toBeCloseTo(0.5 * epsilon, 12);
    expect(over.message).toMatch(/nothing was released/);
    expect(await scientist.privacyBudget).toBeCloseTo(0.5 * epsilon, 12);
    const ada = (await owner.users).find((u) => u.email === "ada@example.org")!;
    expect(ada.spent).toBeCloseTo(2 * epsilon, 12);
  });

  it("grants more budget through an accepted request, and never overspends under concurrent publishes", async () => {
    const request = await scientist.requestBudget({ eps: 10, reason: "one more experiment" });
    expect((await owner.requests).find((r) => r.id === request.id)?.info).toMatchObject({
      kind: "budget",
      epsilon: 10,
    });
    await (await owner.requests).find((r) => r.id === request.id)!.accept();
    const before = await scientist.privacyBudget;
    const sum = await (await scientist.datasets)[0]!["train_labels"].sum();
    const one = new RDPAccountant().step({ noiseMultiplier: 4 / 3, sampleRate: 1 }).getEpsilon(1e-5);
    // the sum of labels in [0, 1] with 3 rows per patient: sensitivity 3; sigma 4.
    const results = await Promise.allSettled(Array.from({ length: 24 }, () => sum.publish({ sigma: 4 })));
    const ok = results.filter((r) => r.status === "fulfilled").length;
    expect(ok).toBe(Math.floor(before / one + 1e-9));
    for (const r of results)
      if (r.status === "rejected") expect((r.reason as TsyftError).code).toBe(ErrorCode.PRIVACY_BUDGET);
    const left = await scientist.privacyBudget;
    expect(left).toBeGreaterThanOrEqual(0);
    expect(left).toBeCloseTo(before - ok * one, 9);
  });

  it("applies a role change or a deleted user on the next request", async () => {
    const user = await owner.createUser({ name: "Bob", email: "bob@example.org", password: "bob-secret" });
    const bob = await login({ email: "bob@example.org", password: "bob-secret", url: domain.url, log: false });
    expect((await failure(bob.users)).code).toBe(ErrorCode.PERMISSION);
    await owner.updateUser(user.id, { role: "Compliance Officer" });
    expect((await bob.users).length).toBeGreaterThan(2);
    await owner.deleteUser(user.id);
    expect((await failure(bob.users)).code).toBe(ErrorCode.SESSION_EXPIRED);
  });

  it("lets a guest list datasets and nothing more", async () => {
    const guest = await login({ url: domain.url, log: false });
    expect(guest.user).toBeUndefined();
    expect(await guest.datasets).toHaveLength(1);
    const refused = await failure(guest.users);
    expect(refused.code).toBe(ErrorCode.AUTH);
    expect(refused.message).toMatch(/log in first/);
  });

  it("checks every request on the server: raw HTTP without or with a forged proof is refused", async () => {
    const bare = await httpJson<{ error: { code: string } }>("POST", `${domain.url}/users`, {
      name: "Eve",
      email: "eve@example.org",
      password: "eve-secret",
      role: "Administrator",
    });
    expect(bare.status).toBe(401);
    const forged = await httpJson<{ error: { code: string } }>("GET", `${domain.url}/users`, undefined, {
      headers: { authorization: "Tsyft AAAA" },
    });
    expect(forged.status).toBe(401);
    expect(forged.body.error.code).toBe(ErrorCode.AUTH);

    // A signed request replayed, and a signature moved to another body, are refused.
    const { body: session } = await httpJson<{ token: string }>("POST", `${domain.url}/login`, {
      email: "ada@example.org",
      password: "ada-secret",
    });
    const key = clientKey(session.token);
    const signed = { authorization: httpProof(key, "GET", "/me", "") };
    expect((await httpJson("GET", `${domain.url}/me`, undefined, { headers: signed })).status).toBe(200);
    expect((await httpJson("GET", `${domain.url}/me`, undefined, { headers: signed })).status).toBe(401);
    const request = JSON.stringify({ kind: "budget", epsilon: 1, reason: "a little" });
    const moved = { authorization: httpProof(key, "POST", "/requests", request) };
    const tampered = JSON.stringify({ kind: "budget", epsilon: 1000, reason: "a little" });
    expect((await httpJson("POST", `${domain.url}/requests`, tampered, { headers: moved })).status).toBe(401);
  });

  it("keeps everything across a restart, and an expired session says to log in again", async () => {
    await domain.close();
    domain = await startDomain({ name: "Hospital A", dataDir, port: 0, sessionMs: 300 });
    const quiet = await login({ email: "info@openmined.org", password: NEW_PASSWORD, url: domain.url, log: false });
    const users = await quiet.users;
    expect(users.map((u) => u.email)).toEqual(["info@openmined.org", "ada@example.org"]);
    expect(users[1]!.spent).toBeGreaterThan(0);
    expect((await quiet.datasets)[0]!.name).toBe("BreastCancerDataset");
    expect((await quiet.requests).length).toBe(2);
    const ada = await login({ email: "ada@example.org", password: "ada-secret", url: domain.url, log: false });
    expect(Array.from(await (await (await ada.datasets)[0]!["train_labels"].get()).data())).toHaveLength(12);
    await new Promise((resolve) => setTimeout(resolve, 400));
    const expired = await failure(ada.privacyBudget);
    expect(expired.code).toBe(ErrorCode.SESSION_EXPIRED);
    expect(expired.message).toMatch(/log in again/);
  });
});
