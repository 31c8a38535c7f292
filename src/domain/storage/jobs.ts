/** Training jobs, their progress rows and their DP-SGD step tallies, in SQL. */
import { randomUUID } from "node:crypto";
import { isoTime, json, num, type SqlClient } from "./sql";
import type { JobRecord, JobStatus, JobStore, LedgerSteps, ProgressRow } from "./types";

type Row = Record<string, unknown>;

/** Jobs in SQL. */
export class SqlJobStore implements JobStore {
  constructor(private readonly sql: SqlClient) {}

  async create(userId: string, spec: Record<string, unknown>): Promise<JobRecord> {
    const [row] = await this.sql.query<Row>(
      "INSERT INTO jobs (id, user_id, status, spec) VALUES ($1, $2, 'queued', $3) RETURNING *",
      [randomUUID(), userId, JSON.stringify(spec)],
    );
    return jobOf(row!);
  }

  async get(id: string): Promise<JobRecord | undefined> {
    const [row] = await this.sql.query<Row>("SELECT * FROM jobs WHERE id = $1", [id]);
    return row && jobOf(row);
  }

  async list(userId?: string): Promise<JobRecord[]> {
    const rows = await this.sql.query<Row>("SELECT * FROM jobs WHERE ($1::text IS NULL OR user_id = $1) ORDER BY seq", [
      userId ?? null,
    ]);
    return rows.map(jobOf);
  }

  async setStatus(id: string, status: JobStatus, error?: string): Promise<void> {
    await this.sql.query("UPDATE jobs SET status = $2, error = $3, updated_at = now() WHERE id = $1", [
      id,
      status,
      error ?? null,
    ]);
  }

  async addProgress(jobId: string, row: ProgressRow): Promise<void> {
    await this.sql.query(
      `INSERT INTO job_progress (job_id, seq, epoch, step, loss, val_loss, val_accuracy)
       VALUES ($1, (SELECT COALESCE(MAX(seq) + 1, 0) FROM job_progress WHERE job_id = $1), $2, $3, $4, $5, $6)`,
      [jobId, row.epoch, row.step ?? null, row.loss, row.valLoss ?? null, row.valAccuracy ?? null],
    );
  }

  async progress(jobId: string): Promise<ProgressRow[]> {
    const rows = await this.sql.query<Row>("SELECT * FROM job_progress WHERE job_id = $1 ORDER BY seq", [jobId]);
    return rows.map((r) => ({
      epoch: num(r.epoch),
      ...(r.step !== null && { step: num(r.step) }),
      loss: num(r.loss),
      ...(r.val_loss !== null && { valLoss: num(r.val_loss) }),
      ...(r.val_accuracy !== null && { valAccuracy: num(r.val_accuracy) }),
    }));
  }

  addSteps(jobId: string, steps: LedgerSteps): Promise<void> {
    return this.sql.transaction(async (tx) => {
      const [last] = await tx.query<Row>(
        "SELECT seq, noise_multiplier, sample_rate FROM ledger_steps WHERE job_id = $1 ORDER BY seq DESC LIMIT 1",
        [jobId],
      );
      if (last && num(last.noise_multiplier) === steps.noiseMultiplier && num(last.sample_rate) === steps.sampleRate) {
        await tx.query("UPDATE ledger_steps SET steps = steps + $3 WHERE job_id = $1 AND seq = $2", [
          jobId,
          last.seq,
          steps.steps,
        ]);
        return;
      }
      await tx.query(
        "INSERT INTO ledger_steps (job_id, seq, noise_multiplier, sample_rate, steps) VALUES ($1, $2, $3, $4, $5)",
        [jobId, last ? num(last.seq) + 1 : 0, steps.noiseMultiplier, steps.sampleRate, steps.steps],
      );
    });
  }

  async steps(jobId: string): Promise<LedgerSteps[]> {
    const rows = await this.sql.query<Row>("SELECT * FROM ledger_steps WHERE job_id = $1 ORDER BY seq", [jobId]);
    return rows.map((r) => ({
      noiseMultiplier: num(r.noise_multiplier),
      sampleRate: num(r.sample_rate),
      steps: num(r.steps),
    }));
  }
}

function jobOf(row: Row): JobRecord {
  return {
    id: String(row.id),
    userId: String(row.user_id),
    status: row.status as JobStatus,
    spec: json<Record<string, unknown>>(row.spec),
    error: row.error === null ? null : String(row.error),
    createdAt: isoTime(row.created_at),
    updatedAt: isoTime(row.updated_at),
  };
}
