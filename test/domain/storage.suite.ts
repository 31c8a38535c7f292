/**
 * The conformance suite of the domain's store: every table's contract, run on
 * each backend (PGlite always, a PostgreSQL server when TSYFT_TEST_DATABASE_URL
 * is set: test/domain/storage.test.ts). One store is shared by a backend's
 * cases (opening PGlite takes seconds), so each case makes its own users.
 *
 * The concurrency cases matter most: a pool of connections (the server) really
 * runs charges at once, and the budget must still never be overspent.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode, TsyftError } from "../../src/core/errors";
import type { DomainStore, UserRecord } from "../../src/domain/storage";

export function runStorageSuite(name: string, makeStore: () => Promise<DomainStore>): void {
  describe(`DomainStore conformance: ${name}`, () => {
    let store: DomainStore;
    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      await store?.close();
    });

    const newUser = (fields: Partial<UserRecord> = {}) =>
      store.users.create({
        email: `${randomUUID()}@example.org`,
        name: "Ada",
        role: "Data Scientist",
        passwordHash: "scrypt$test",
        budget: 10,
        ...fields,
      });

    it("creates, finds (email in any case), updates and deletes users", async () => {
      const email = `Grace.${randomUUID()}@Example.org`;
      const user = await newUser({ email, name: "Grace", budget: 3 });
      expect(user).toMatchObject({ email, name: "Grace", role: "Data Scientist", budget: 3, spent: 0 });
      expect(Date.parse(user.createdAt)).not.toBeNaN();
      expect((await store.users.byEmail(email.toLowerCase()))?.id).toBe(user.id);
      expect((await store.users.byId(user.id))?.email).toBe(email);
      const updated = await store.users.update(user.id, { role: "Compliance Officer", budget: 5 });
      expect(updated).toMatchObject({ role: "Compliance Officer", budget: 5, name: "Grace" });
      expect((await store.users.list()).map((u) => u.id)).toContain(user.id);
      expect(await store.users.delete(user.id)).toBe(true);
      expect(await store.users.byId(user.id)).toBeUndefined();
      expect(await store.users.delete(user.id)).toBe(false);
    });

    it("refuses a second account for the same email, whatever its case", async () => {
      const user = await newUser();
      const error = await newUser({ email: user.email.toUpperCase() }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TsyftError);
      expect((error as TsyftError).details.conflict).toBe(true);
    });

    it("keeps sessions with their user; revoking one or all, and deleting the user, end them", async () => {
      const user = await newUser();
      const a = await store.sessions.create(user.id, new Date(Date.now() + 60_000));
      const b = await store.sessions.create(user.id, new Date(Date.now() + 60_000));
      const found = await store.sessions.get(a.id);
      expect(found?.user.id).toBe(user.id);
      expect(found?.session).toMatchObject({ id: a.id, userId: user.id, revoked: false });
      expect(Date.parse(found!.session.expiresAt)).toBeGreaterThan(Date.now());
      await store.sessions.revoke(a.id);
      expect((await store.sessions.get(a.id))?.session.revoked).toBe(true);
      expect(await store.sessions.revokeAll(user.id)).toBe(1);
      expect((await store.sessions.get(b.id))?.session.revoked).toBe(true);
      await store.users.delete(user.id);
      expect(await store.sessions.get(b.id)).toBeUndefined();
    });

    it("stores a dataset with its assets in order, and objects derived from them", async () => {
      const owner = await newUser({ role: "Owner" });
      const asset = (key: string) => ({
        key,
        dtype: "float32",
        shape: [4, 2],
        min: 0,
        max: 1,
        subjectCount: 2,
        maxRowsPerSubject: 3,
        objectKey: `${key}.bin`,
      });
      const dataset = await store.datasets.create({
        name: "IDC",
        description: "patches",
        metadata: { source: "Kaggle", patients: 19 },
        ownerId: owner.id,
        assets: [asset("train_images"), asset("train_labels")],
      });
      expect(dataset.assets.map((a) => a.key)).toEqual(["train_images", "train_labels"]);
      expect(dataset.metadata).toEqual({ source: "Kaggle", patients: 19 });
      expect((await store.datasets.list()).find((d) => d.id === dataset.id)?.assets).toHaveLength(2);
      const first = dataset.assets[0]!;
      expect(await store.datasets.asset(first.id)).toEqual(first);
      const object = await store.datasets.createObject({
        ownerId: owner.id,
        assetId: first.id,
        ops: [
          { op: "slice", begin: [0], size: [2] },
          { op: "sum", axis: [0] },
        ],
        shape: [2],
      });
      expect(await store.datasets.object(object.id)).toEqual(object);
      expect(await store.datasets.get(randomUUID())).toBeUndefined();
    });

    it("decides a pending request once; an accepted budget request adds to the budget", async () => {
      const scientist = await newUser({ budget: 1 });
      const owner = await newUser({ role: "Owner" });
      const access = await store.requests.create({
        kind: "data_access",
        userId: scientist.id,
        objectId: "asset-1",
        reason: "to check labels",
      });
      expect(access).toMatchObject({ status: "pending", userEmail: scientist.email, objectId: "asset-1" });
      expect(await store.requests.hasAccess(scientist.id, ["asset-1"])).toBe(false);
      expect((await store.requests.decide(access.id, "accepted", owner.id))?.status).toBe("accepted");
      expect(await store.requests.decide(access.id, "denied", owner.id)).toBeUndefined();
      expect(await store.requests.hasAccess(scientist.id, ["other", "asset-1"])).toBe(true);
      const budget = await store.requests.create({
        kind: "budget",
        userId: scientist.id,
        epsilon: 2.5,
        reason: "more",
      });
      expect((await store.requests.list({ userId: scientist.id, status: "pending" })).map((r) => r.id)).toEqual([
        budget.id,
      ]);
      await store.requests.decide(budget.id, "accepted", owner.id);
      expect((await store.users.byId(scientist.id))?.budget).toBe(3.5);
      const denied = await store.requests.create({ kind: "budget", userId: scientist.id, epsilon: 9, reason: "all" });
      await store.requests.decide(denied.id, "denied", owner.id);
      expect((await store.users.byId(scientist.id))?.budget).toBe(3.5);
      expect((await store.requests.list({ userId: scientist.id })).map((r) => r.id)).toEqual([
        denied.id,
        budget.id,
        access.id,
      ]);
    });

    it("charges within the budget; over it, throws PRIVACY_BUDGET with what is needed and left, and changes nothing", async () => {
      const user = await newUser({ budget: 1 });
      const first = await store.ledger.charge({
        userId: user.id,
        epsilon: 0.75,
        delta: 1e-5,
        kind: "query",
        subject: "o1",
      });
      expect(first).toMatchObject({ charged: true, budget: 1, spent: 0.75 });
      const error = await store.ledger
        .charge({ userId: user.id, epsilon: 0.5, delta: 1e-5, kind: "query", subject: "o2" })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TsyftError);
      expect((error as TsyftError).code).toBe(ErrorCode.PRIVACY_BUDGET);
      expect((error as TsyftError).details).toMatchObject({ needed: 0.5, left: 0.25, budget: 1 });
      expect((error as TsyftError).message).toMatch(/needs epsilon 0\.5.*only 0\.25/);
      expect((await store.users.byId(user.id))?.spent).toBe(0.75);
      expect((await store.ledger.charges(user.id)).map((c) => c.subject)).toEqual(["o1"]);
    });

    it("charges a job's weights once: publishing them again costs nothing", async () => {
      const user = await newUser({ budget: 5 });
      const charge = { userId: user.id, epsilon: 2, delta: 1e-5, kind: "weights" as const, subject: "job-1" };
      expect((await store.ledger.charge(charge)).charged).toBe(true);
      const again = await store.ledger.charge(charge);
      expect(again).toMatchObject({ charged: false, spent: 2 });
      expect(await store.ledger.charges(user.id)).toHaveLength(1);
    });

    it("never overspends under many concurrent charges", async () => {
      const user = await newUser({ budget: 1 });
      const results = await Promise.allSettled(
        Array.from({ length: 60 }, (_, i) =>
          store.ledger.charge({ userId: user.id, epsilon: 0.03, delta: 1e-5, kind: "query", subject: `q${i}` }),
        ),
      );
      const ok = results.filter((r) => r.status === "fulfilled").length;
      const refused = results.filter(
        (r) => r.status === "rejected" && (r.reason as TsyftError).code === ErrorCode.PRIVACY_BUDGET,
      ).length;
      expect(ok).toBe(Math.floor(1 / 0.03 + 1e-9));
      expect(ok + refused).toBe(60);
      const after = await store.users.byId(user.id);
      expect(after!.spent).toBeLessThanOrEqual(1);
      expect(after!.spent).toBeCloseTo(ok * 0.03, 12);
      expect(await store.ledger.charges(user.id)).toHaveLength(ok);
    });

    it("charges concurrent first publishes of the same weights once", async () => {
      const user = await newUser({ budget: 10 });
      const charge = { userId: user.id, epsilon: 1.5, delta: 1e-5, kind: "weights" as const, subject: "job-x" };
      const results = await Promise.all(Array.from({ length: 12 }, () => store.ledger.charge(charge)));
      expect(results.filter((r) => r.charged)).toHaveLength(1);
      expect((await store.users.byId(user.id))?.spent).toBe(1.5);
    });

    it("records jobs, their progress rows and their DP-SGD steps (merging runs of the same parameters)", async () => {
      const user = await newUser();
      const job = await store.jobs.create(user.id, { model: "cnn", epochs: 2 });
      expect(job).toMatchObject({ status: "queued", spec: { model: "cnn", epochs: 2 }, error: null });
      await store.jobs.setStatus(job.id, "running");
      await store.jobs.addProgress(job.id, { epoch: 0, step: 0, loss: 0.7 });
      await store.jobs.addProgress(job.id, { epoch: 0, loss: 0.6, valLoss: 0.65, valAccuracy: 0.5 });
      expect(await store.jobs.progress(job.id)).toEqual([
        { epoch: 0, step: 0, loss: 0.7 },
        { epoch: 0, loss: 0.6, valLoss: 0.65, valAccuracy: 0.5 },
      ]);
      await store.jobs.addSteps(job.id, { noiseMultiplier: 1.1, sampleRate: 0.01, steps: 1 });
      await store.jobs.addSteps(job.id, { noiseMultiplier: 1.1, sampleRate: 0.01, steps: 4 });
      await store.jobs.addSteps(job.id, { noiseMultiplier: 1.1, sampleRate: 0.02, steps: 1 });
      expect(await store.jobs.steps(job.id)).toEqual([
        { noiseMultiplier: 1.1, sampleRate: 0.01, steps: 5 },
        { noiseMultiplier: 1.1, sampleRate: 0.02, steps: 1 },
      ]);
      await store.jobs.setStatus(job.id, "failed", "out of memory");
      expect(await store.jobs.get(job.id)).toMatchObject({ status: "failed", error: "out of memory" });
      expect((await store.jobs.list(user.id)).map((j) => j.id)).toEqual([job.id]);
    });
  });
}
