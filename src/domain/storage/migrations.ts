/**
 * The domain's schema, as numbered migrations applied in order and recorded in
 * `schema_migrations`. A migration once released is never edited: a change is
 * a new migration. Applying takes an advisory lock, so two domain processes
 * starting on one server do not migrate twice.
 *
 * Tables (see DESIGN.md section 8):
 * - users: accounts, role, password hash, privacy budget and spend.
 * - sessions: one row per login; tokens name their session, so a logout, a
 *   password change or a deleted user ends them at once.
 * - datasets, assets: what the owner uploaded (values live in files).
 * - objects: results of remote ops on assets (slices, sums), as recipes.
 * - requests: data access and budget requests, and their decisions.
 * - jobs, job_progress: training jobs and their per-step/epoch loss.
 * - ledger_steps: each job's DP-SGD steps (noise multiplier, sample rate).
 * - ledger_charges: each epsilon charged to a user and what it released.
 *
 * @example
 * ```ts
 * const applied = await migrate(sql);   // [1] on a new database, [] after
 * ```
 */
import type { SqlClient } from "./sql";

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "accounts, datasets, requests, jobs, ledger",
    sql: `
CREATE TABLE users (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  email text NOT NULL,
  name text NOT NULL,
  role text NOT NULL,
  password_hash text NOT NULL,
  budget double precision NOT NULL DEFAULT 0 CHECK (budget >= 0),
  spent double precision NOT NULL DEFAULT 0 CHECK (spent >= 0),
  created_at timestamptz NOT NULL DEFAULT now()
);
-- One account per address, whatever its case.
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE TABLE sessions (
  id text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  revoked boolean NOT NULL DEFAULT false
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE datasets (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  metadata jsonb NOT NULL DEFAULT '{}',
  owner_id text REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE assets (
  id text PRIMARY KEY,
  dataset_id text NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  key text NOT NULL,
  dtype text NOT NULL,
  shape jsonb NOT NULL,
  min_value double precision NOT NULL,
  max_value double precision NOT NULL,
  subject_count integer NOT NULL,
  max_rows_per_subject integer NOT NULL,
  object_key text NOT NULL,
  position integer NOT NULL,
  UNIQUE (dataset_id, key)
);
CREATE TABLE objects (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  owner_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  asset_id text NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  ops jsonb NOT NULL,
  shape jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE requests (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  kind text NOT NULL CHECK (kind IN ('data_access', 'budget')),
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  object_id text,
  epsilon double precision,
  reason text NOT NULL,
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'denied')),
  reviewer_id text REFERENCES users(id) ON DELETE SET NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz
);
CREATE INDEX requests_user ON requests(user_id);
CREATE TABLE jobs (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  status text NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  spec jsonb NOT NULL,
  error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE job_progress (
  job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  epoch integer NOT NULL,
  step integer,
  loss double precision NOT NULL,
  val_loss double precision,
  val_accuracy double precision,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, seq)
);
CREATE TABLE ledger_steps (
  job_id text NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  seq integer NOT NULL,
  noise_multiplier double precision NOT NULL,
  sample_rate double precision NOT NULL,
  steps integer NOT NULL CHECK (steps > 0),
  PRIMARY KEY (job_id, seq)
);
CREATE TABLE ledger_charges (
  id text PRIMARY KEY,
  seq bigserial NOT NULL,
  user_id text NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  epsilon double precision NOT NULL CHECK (epsilon >= 0),
  delta double precision NOT NULL,
  kind text NOT NULL CHECK (kind IN ('query', 'weights')),
  subject text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_charges_user ON ledger_charges(user_id);
-- Weights are charged once: publishing them again is post-processing.
CREATE UNIQUE INDEX ledger_charges_weights_once ON ledger_charges(user_id, subject) WHERE kind = 'weights';
`,
  },
];

/** Any number: the advisory lock the migrations of a domain database are applied under. */
const MIGRATION_LOCK = 0x7459_6674;

/**
 * Applies the migrations the database lacks, in one transaction; returns their versions.
 *
 * @example
 * ```ts
 * await migrate(await openPglite(dir));
 * ```
 */
export async function migrate(sql: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  await sql.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT NULL, " +
      "applied_at timestamptz NOT NULL DEFAULT now())",
  );
  return sql.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    const done = new Set(
      (await tx.query<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(migration.version)) continue;
      for (const statement of splitStatements(migration.sql)) await tx.query(statement);
      await tx.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", [
        migration.version,
        migration.name,
      ]);
      applied.push(migration.version);
    }
    return applied;
  });
}

/** A script's statements (the migrations have no semicolons inside strings or bodies), comments dropped. */
function splitStatements(script: string): string[] {
  return script
    .split("\n")
    .filter((line) => !line.trim().startsWith("--"))
    .join("\n")
    .split(";")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
