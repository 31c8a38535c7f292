/**
 * The domain's training job routes (jobs/runner.ts):
 *
 *   POST /jobs               { model, x, y, options }  -> 201 { job } (runs in the background)
 *   GET  /jobs                                          -> { jobs } (the caller's)
 *   GET  /jobs/:id                                      -> { job, progress, steps }
 *   POST /jobs/:id/cancel                               -> { job }
 *   POST /jobs/:id/publish                              -> { weights, epsilon, delta, charged, privacyBudget }
 *   GET  /jobs/:id/weights   (data owners)              -> { weights }
 *   POST /jobs/step          { model, x, y, dp? }      -> 201 { job, loss } (a new model's first single step)
 *   POST /jobs/:id/step      { x, y, dp? }             -> { job, loss } (its next steps)
 */
import type { Route } from "../grid/http-router";
import type { JobRunner } from "./jobs/runner";
import { route, type RouteContext } from "./routes-accounts";
import { requireUser } from "./session-auth";

export function jobRoutes(ctx: RouteContext & { jobs: JobRunner }): Route[] {
  const { jobs, store } = ctx;
  return [
    route(ctx, "POST", "/jobs", async (request, caller) => {
      const user = requireUser(caller, "train models");
      return { status: 201, body: { job: await jobs.start(user, await request.body()) } };
    }),
    route(ctx, "POST", "/jobs/step", async (request, caller) => ({
      status: 201,
      body: await jobs.step(requireUser(caller, "train models"), undefined, await request.body()),
    })),
    route(ctx, "POST", "/jobs/:id/step", async (request, caller) => ({
      status: 200,
      body: await jobs.step(requireUser(caller, "train models"), request.params[0]!, await request.body()),
    })),
    route(ctx, "GET", "/jobs", async (_request, caller) => {
      const user = requireUser(caller, "list jobs");
      return { status: 200, body: { jobs: await store.jobs.list(user.id) } };
    }),
    route(ctx, "GET", "/jobs/:id", async (request, caller) => ({
      status: 200,
      body: await jobs.status(requireUser(caller, "see jobs"), request.params[0]!),
    })),
    route(ctx, "POST", "/jobs/:id/cancel", async (request, caller) => ({
      status: 200,
      body: { job: await jobs.cancel(requireUser(caller, "cancel jobs"), request.params[0]!) },
    })),
    route(ctx, "POST", "/jobs/:id/publish", async (request, caller) => ({
      status: 200,
      body: await jobs.publish(requireUser(caller, "publish weights"), request.params[0]!),
    })),
    route(ctx, "GET", "/jobs/:id/weights", async (request, caller) => ({
      status: 200,
      body: { weights: await jobs.rawWeights(requireUser(caller, "take weights"), request.params[0]!) },
    })),
  ];
}
