/** Datasets, their assets, and objects derived from assets, in SQL. */
import { randomUUID } from "node:crypto";
import type { RemoteOp } from "../remote-ops";
import { isoTime, json, num, type SqlClient, type SqlExecutor } from "./sql";
import type { AssetRecord, DatasetRecord, DatasetStore, ObjectRecord } from "./types";

type Row = Record<string, unknown>;

const ASSET_COLUMNS =
  "id, dataset_id, key, dtype, shape, min_value, max_value, subject_count, max_rows_per_subject, object_key";

/** Datasets in SQL. */
export class SqlDatasetStore implements DatasetStore {
  constructor(private readonly sql: SqlClient) {}

  create(
    dataset: Omit<DatasetRecord, "id" | "createdAt" | "assets"> & { assets: Omit<AssetRecord, "id" | "datasetId">[] },
  ): Promise<DatasetRecord> {
    return this.sql.transaction(async (tx) => {
      const id = randomUUID();
      await tx.query("INSERT INTO datasets (id, name, description, metadata, owner_id) VALUES ($1, $2, $3, $4, $5)", [
        id,
        dataset.name,
        dataset.description,
        JSON.stringify(dataset.metadata),
        dataset.ownerId,
      ]);
      for (const [position, asset] of dataset.assets.entries()) {
        await tx.query(
          `INSERT INTO assets (${ASSET_COLUMNS}, position) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            randomUUID(),
            id,
            asset.key,
            asset.dtype,
            JSON.stringify(asset.shape),
            asset.min,
            asset.max,
            asset.subjectCount,
            asset.maxRowsPerSubject,
            asset.objectKey,
            position,
          ],
        );
      }
      return (await datasetsWhere(tx, "WHERE d.id = $1", [id]))[0]!;
    });
  }

  list(): Promise<DatasetRecord[]> {
    return datasetsWhere(this.sql, "", []);
  }

  async get(id: string): Promise<DatasetRecord | undefined> {
    return (await datasetsWhere(this.sql, "WHERE d.id = $1", [id]))[0];
  }

  async asset(id: string): Promise<AssetRecord | undefined> {
    const [row] = await this.sql.query<Row>(`SELECT ${ASSET_COLUMNS} FROM assets WHERE id = $1`, [id]);
    return row && assetOf(row);
  }

  async createObject(object: Omit<ObjectRecord, "id" | "createdAt">): Promise<ObjectRecord> {
    const [row] = await this.sql.query<Row>(
      "INSERT INTO objects (id, owner_id, asset_id, ops, shape) VALUES ($1, $2, $3, $4, $5) RETURNING *",
      [randomUUID(), object.ownerId, object.assetId, JSON.stringify(object.ops), JSON.stringify(object.shape)],
    );
    return objectOf(row!);
  }

  async object(id: string): Promise<ObjectRecord | undefined> {
    const [row] = await this.sql.query<Row>("SELECT * FROM objects WHERE id = $1", [id]);
    return row && objectOf(row);
  }
}

async function datasetsWhere(sql: SqlExecutor, where: string, params: unknown[]): Promise<DatasetRecord[]> {
  const rows = await sql.query<Row>(
    `SELECT d.id, d.name, d.description, d.metadata, d.owner_id, d.created_at FROM datasets d ${where} ORDER BY d.seq`,
    params,
  );
  if (rows.length === 0) return [];
  const assets = await sql.query<Row>(
    `SELECT ${ASSET_COLUMNS} FROM assets WHERE dataset_id = ANY($1) ORDER BY position`,
    [rows.map((r) => r.id)],
  );
  return rows.map((row) => ({
    id: String(row.id),
    name: String(row.name),
    description: String(row.description),
    metadata: json<Record<string, unknown>>(row.metadata),
    ownerId: row.owner_id === null ? null : String(row.owner_id),
    createdAt: isoTime(row.created_at),
    assets: assets.filter((a) => a.dataset_id === row.id).map(assetOf),
  }));
}

function assetOf(row: Row): AssetRecord {
  return {
    id: String(row.id),
    datasetId: String(row.dataset_id),
    key: String(row.key),
    dtype: String(row.dtype),
    shape: json<number[]>(row.shape),
    min: num(row.min_value),
    max: num(row.max_value),
    subjectCount: num(row.subject_count),
    maxRowsPerSubject: num(row.max_rows_per_subject),
    objectKey: String(row.object_key),
  };
}

function objectOf(row: Row): ObjectRecord {
  return {
    id: String(row.id),
    ownerId: String(row.owner_id),
    assetId: String(row.asset_id),
    ops: json<RemoteOp[]>(row.ops),
    shape: json<number[]>(row.shape),
    createdAt: isoTime(row.created_at),
  };
}
