/**
 * The domain's data routes:
 *
 *   GET  /datasets                       (guests too)   -> { datasets: [{ id, name, description, metadata, assets }] }
 *   POST /datasets          (uploadData) { name, description, metadata, assets: [{ key, tensor, min, max, dataSubjects }] }
 *   GET  /objects/:id                                   -> { id, shape, dtype, asset } (an asset or a derived object)
 *   POST /objects/:id/ops   { op, ... }                  -> 201 the new object (slice, sum, mean; run lazily, here)
 *   GET  /objects/:id/value (data owners, or an accepted request) -> { tensor }
 *   POST /objects/:id/publish { sigma }                  -> { tensor, epsilon, delta, sensitivity, privacyBudget }
 *   POST /requests          { kind: "data_access", objectId, reason } | { kind: "budget", epsilon, reason }
 *   GET  /requests          all (triageDataRequests) or the caller's own -> { requests }
 *   POST /requests/:id/accept | /requests/:id/deny (triageDataRequests; budget ones managePrivacyBudget too)
 */
import { ErrorCode, TsyftError } from "../core/errors";
import type { Route } from "../grid/http-router";
import type { DataService, Resolved } from "./data-service";
import { can, requirePermission } from "./roles";
import { route, type RouteContext } from "./routes-accounts";
import { requireUser } from "./session-auth";
import type { AssetRecord, DatasetRecord } from "./storage";

/** An asset as clients see it (where its values are stays inside). */
export function publicAsset(asset: AssetRecord) {
  return {
    id: asset.id,
    key: asset.key,
    dtype: asset.dtype,
    shape: asset.shape,
    min: asset.min,
    max: asset.max,
    subjectCount: asset.subjectCount,
  };
}

export function publicDataset(dataset: DatasetRecord) {
  const { id, name, description, metadata, createdAt } = dataset;
  return { id, name, description, metadata, createdAt, assets: dataset.assets.map(publicAsset) };
}

function pointerInfo(target: Resolved) {
  return {
    id: target.id,
    shape: target.shape,
    dtype: target.ops.some((op) => op.op === "mean") ? "float32" : target.asset.dtype,
    asset: publicAsset(target.asset),
    ops: target.ops,
  };
}

export function dataRoutes(ctx: RouteContext & { data: DataService; maxUploadBytes: number }): Route[] {
  const { store, data } = ctx;
  return [
    route(ctx, "GET", "/datasets", async () => ({
      status: 200,
      body: { datasets: (await store.datasets.list()).map(publicDataset) },
    })),
    route(
      ctx,
      "POST",
      "/datasets",
      async (request, caller) => {
        const user = requireUser(caller, "upload datasets");
        requirePermission(user, "uploadData", "upload datasets");
        return { status: 201, body: { dataset: publicDataset(await data.upload(user, await request.body())) } };
      },
      { maxBodyBytes: ctx.maxUploadBytes },
    ),
    route(ctx, "GET", "/objects/:id", async (request, caller) => {
      requireUser(caller, "use pointers");
      return { status: 200, body: pointerInfo(await data.resolve(request.params[0]!)) };
    }),
    route(ctx, "POST", "/objects/:id/ops", async (request, caller) => {
      const user = requireUser(caller, "run ops on assets");
      const object = await data.derive(user, request.params[0]!, await request.body());
      return { status: 201, body: pointerInfo(await data.resolve(object.id)) };
    }),
    route(ctx, "GET", "/objects/:id/value", async (request, caller) => {
      const user = requireUser(caller, "get values");
      return { status: 200, body: { tensor: await data.get(user, request.params[0]!) } };
    }),
    route(ctx, "POST", "/objects/:id/publish", async (request, caller) => {
      const user = requireUser(caller, "publish");
      const { value, budget, spent, ...release } = await data.publish(
        user,
        request.params[0]!,
        (await request.body()).sigma,
      );
      return { status: 200, body: { tensor: value, ...release, privacyBudget: budget - spent } };
    }),
    route(ctx, "POST", "/requests", async (request, caller) => {
      const user = requireUser(caller, "make requests");
      requirePermission(user, "makeDataRequests", "make requests");
      const body = await request.body();
      const reason = typeof body.reason === "string" ? body.reason.slice(0, 2000) : "";
      if (body.kind === "data_access") {
        const target = await data.resolve(String(body.objectId));
        const made = await store.requests.create({ kind: "data_access", userId: user.id, objectId: target.id, reason });
        return { status: 201, body: { request: made } };
      }
      if (body.kind === "budget") {
        if (typeof body.epsilon !== "number" || !(body.epsilon > 0) || !Number.isFinite(body.epsilon)) {
          throw new TsyftError(ErrorCode.INVALID_ARGUMENT, "A budget request needs eps, an epsilon > 0.");
        }
        const made = await store.requests.create({ kind: "budget", userId: user.id, epsilon: body.epsilon, reason });
        return { status: 201, body: { request: made } };
      }
      throw new TsyftError(ErrorCode.INVALID_ARGUMENT, 'A request\'s kind is "data_access" or "budget".');
    }),
    route(ctx, "GET", "/requests", async (_request, caller) => {
      const user = requireUser(caller, "see requests");
      const all = can(user.role, "triageDataRequests");
      return { status: 200, body: { requests: await store.requests.list(all ? {} : { userId: user.id }) } };
    }),
    ...(["accept", "deny"] as const).map((verb) =>
      route(ctx, "POST", `/requests/:id/${verb}`, async (request, caller) => {
        const user = requireUser(caller, `${verb} requests`);
        requirePermission(user, "triageDataRequests", `${verb} requests`);
        const id = request.params[0]!;
        const pending = await store.requests.get(id);
        if (!pending)
          throw new TsyftError(ErrorCode.NOT_FOUND, `No request ${JSON.stringify(id)}; see domain.requests.`);
        if (pending.kind === "budget") requirePermission(user, "managePrivacyBudget", `${verb} budget requests`);
        const decided = await store.requests.decide(id, verb === "accept" ? "accepted" : "denied", user.id);
        if (!decided) {
          throw new TsyftError(ErrorCode.INVALID_ARGUMENT, `Request ${id} was already ${pending.status}.`, {
            conflict: true,
          });
        }
        return { status: 200, body: { request: decided } };
      }),
    ),
  ];
}
