import GRDB

/// The store's schema as GRDB migrations. A database written before GRDB (no `grdb_migrations` table) runs
/// them all: v1 only creates what is missing, v2 upgrades schema 1 job JSON when `meta` says so.
enum StoreSchema {
    /// Schema 1's tables, as the coordinator has always created them.
    static let v1 = """
        CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS workers(
            id TEXT PRIMARY KEY, hostname TEXT NOT NULL, slots INTEGER NOT NULL, software_version TEXT,
            blas_core TEXT, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, state TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS jobs(
            id TEXT PRIMARY KEY, seq INTEGER NOT NULL UNIQUE, kind TEXT NOT NULL, spec_yaml TEXT NOT NULL,
            prepared_json TEXT NOT NULL, state TEXT NOT NULL, submitter TEXT NOT NULL, created_ms INTEGER NOT NULL,
            finished_ms INTEGER, search_json TEXT NOT NULL, best_f1 REAL, export_path TEXT, message TEXT);
        CREATE TABLE IF NOT EXISTS arms(
            job_id TEXT NOT NULL REFERENCES jobs(id), arm_id INTEGER NOT NULL, arm_json TEXT NOT NULL,
            state TEXT NOT NULL, shard_count INTEGER NOT NULL, issued_ms INTEGER NOT NULL, completed_ms INTEGER,
            tp INTEGER, fp INTEGER, tn INTEGER, fn INTEGER, f1 REAL, iteration INTEGER, seconds REAL,
            PRIMARY KEY(job_id, arm_id));
        CREATE TABLE IF NOT EXISTS tasks(
            id TEXT PRIMARY KEY, job_id TEXT NOT NULL REFERENCES jobs(id), arm_id INTEGER NOT NULL,
            shard INTEGER NOT NULL, state TEXT NOT NULL, worker_id TEXT, attempt INTEGER NOT NULL,
            lease_deadline_ms INTEGER NOT NULL, leased_ms INTEGER NOT NULL, tp INTEGER, fp INTEGER, tn INTEGER,
            fn INTEGER, elapsed_ms INTEGER, completed_ms INTEGER);
        CREATE INDEX IF NOT EXISTS tasks_by_job ON tasks(job_id, state);
        CREATE TABLE IF NOT EXISTS blobs(
            hash TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ms INTEGER NOT NULL,
            PRIMARY KEY(path));
        CREATE TABLE IF NOT EXISTS checkpoints(
            job_id TEXT NOT NULL, kind TEXT NOT NULL, path TEXT NOT NULL, created_ms INTEGER NOT NULL);
        INSERT OR IGNORE INTO meta(key, value) VALUES('schema_version', '1');
        """

    /// Training jobs (issue 12): membership generations and committed checkpoints. Training jobs themselves are
    /// rows of `jobs` with kind pretrain/finetune and a PreparedTraining as prepared_json.
    static let v3 = """
        CREATE TABLE training_generations(
            job_id TEXT NOT NULL REFERENCES jobs(id), generation INTEGER NOT NULL, start_step INTEGER NOT NULL,
            members_json TEXT NOT NULL, started_ms INTEGER NOT NULL, ended_ms INTEGER, end_reason TEXT,
            PRIMARY KEY(job_id, generation));
        CREATE TABLE training_checkpoints(
            job_id TEXT NOT NULL REFERENCES jobs(id), step INTEGER NOT NULL, generation INTEGER NOT NULL,
            files_json TEXT NOT NULL, committed_ms INTEGER NOT NULL, PRIMARY KEY(job_id, step));
        INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '3');
        """

    /// Synthesize jobs (issue 14): the batches issued with their outcome, and every accepted sample line in commit
    /// order (the output file is rebuilt from them after a crash, and the exact dedup state from their keys).
    static let v4 = """
        CREATE TABLE synth_batches(
            job_id TEXT NOT NULL REFERENCES jobs(id), batch INTEGER NOT NULL, policy TEXT NOT NULL, label TEXT NOT NULL,
            sequence INTEGER NOT NULL, count INTEGER NOT NULL, state TEXT NOT NULL, issued_ms INTEGER NOT NULL,
            commit_seq INTEGER, worker_id TEXT, completed_ms INTEGER, generated INTEGER NOT NULL DEFAULT 0,
            accepted INTEGER NOT NULL DEFAULT 0, duplicates INTEGER NOT NULL DEFAULT 0, surplus INTEGER NOT NULL DEFAULT 0,
            relabelled INTEGER NOT NULL DEFAULT 0, dropped INTEGER NOT NULL DEFAULT 0, requests INTEGER NOT NULL DEFAULT 0,
            prompt_tokens INTEGER NOT NULL DEFAULT 0, completion_tokens INTEGER NOT NULL DEFAULT 0,
            retries INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(job_id, batch));
        CREATE TABLE synth_samples(
            job_id TEXT NOT NULL REFERENCES jobs(id), commit_seq INTEGER NOT NULL, position INTEGER NOT NULL,
            policy TEXT NOT NULL, label TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY(job_id, commit_seq, position));
        INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '4');
        """

    /// Synthesize jobs' near-duplicate counts (embedding dedup on the coordinator), the judge's disagreements, and
    /// `refine_policy`'s suggestions per policy (see JobStore+Synthesis).
    static let v5 = """
        ALTER TABLE synth_batches ADD COLUMN near_duplicates INTEGER NOT NULL DEFAULT 0;
        CREATE TABLE synth_disagreements(
            job_id TEXT NOT NULL REFERENCES jobs(id), commit_seq INTEGER NOT NULL, position INTEGER NOT NULL,
            policy TEXT NOT NULL, line TEXT NOT NULL, PRIMARY KEY(job_id, commit_seq, position));
        CREATE TABLE synth_refinements(
            job_id TEXT NOT NULL REFERENCES jobs(id), policy TEXT NOT NULL, state TEXT NOT NULL, path TEXT, message TEXT,
            disagreements INTEGER NOT NULL, requests INTEGER NOT NULL DEFAULT 0, prompt_tokens INTEGER NOT NULL DEFAULT 0,
            completion_tokens INTEGER NOT NULL DEFAULT 0, completed_ms INTEGER, PRIMARY KEY(job_id, policy));
        INSERT OR REPLACE INTO meta(key, value) VALUES('schema_version', '5');
        """

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { try $0.execute(sql: v1) }
        migrator.registerMigration("v2") { try PreparedJobMigration.upgradeJobs($0) }
        migrator.registerMigration("v3-training") { try $0.execute(sql: v3) }
        migrator.registerMigration("v4-synthesis") { try $0.execute(sql: v4) }
        migrator.registerMigration("v5-synthesis-dedup-refine") { try $0.execute(sql: v5) }
        return migrator
    }
}
