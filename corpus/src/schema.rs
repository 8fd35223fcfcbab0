//! The schema as a list of forward migrations.
//!
//! `PRAGMA user_version` holds the number of migrations applied. Step `i` of [`MIGRATIONS`]
//! takes a database from version `i` to version `i + 1`; all pending steps run in one
//! transaction, so a database is always at a version some build knew. Never edit a step once
//! it has reached main: append a new one (and bump nothing else, [`SCHEMA_VERSION`] follows).
//! Steps run with foreign keys off, so that a step may rebuild a table.

/// `PRAGMA application_id` of a cgdiff database: "cgdf" in ASCII. Lets the store tell its own
/// files from another program's SQLite database before touching them.
pub const APPLICATION_ID: i64 = 0x6367_6466;

/// The forward migrations, oldest first.
pub const MIGRATIONS: &[&str] = &[
    // 0 -> 1: the first schema.
    r#"
    CREATE TABLE runs (
        id              INTEGER PRIMARY KEY,
        kind            TEXT    NOT NULL
                        CHECK (kind IN ('campaign', 'cargo-fuzz', 'import', 'replay', 'merge')),
        started_at      INTEGER NOT NULL,
        ended_at        INTEGER,
        cases_executed  INTEGER NOT NULL DEFAULT 0,
        operations      INTEGER NOT NULL DEFAULT 0,
        cases_per_sec   REAL,
        ops_per_sec     REAL,
        seed            TEXT,     -- a u64 in decimal: SQLite integers are signed 64-bit
        shard           TEXT,     -- "index/count", e.g. "0/1"
        jobs            INTEGER,
        git_commit      TEXT,
        tool_version    TEXT    NOT NULL,
        new_signatures  INTEGER NOT NULL DEFAULT 0,
        divergences     INTEGER NOT NULL DEFAULT 0,
        extra           TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(extra))
    );

    CREATE TABLE cases (
        id              INTEGER PRIMARY KEY,
        text            TEXT    NOT NULL,   -- the canonical case-file text
        bytes           BLOB,               -- the fuzzer input it was decoded from, if any
        signature       TEXT    NOT NULL,
        classes         TEXT    NOT NULL,   -- comma-separated divergence classes
        rule            TEXT,               -- expected-difference rule, NULL if unexpected
        first_op        INTEGER NOT NULL,
        ops             INTEGER NOT NULL,
        minimised_from  INTEGER REFERENCES cases(id),
        found_by        TEXT    NOT NULL
                        CHECK (found_by IN ('campaign', 'cargo-fuzz', 'import', 'minimize')),
        run_id          INTEGER REFERENCES runs(id),
        tool_version    TEXT    NOT NULL,
        git_commit      TEXT,
        created_at      INTEGER NOT NULL,
        last_seen_at    INTEGER NOT NULL,
        hit_count       INTEGER NOT NULL DEFAULT 1,
        UNIQUE (signature, text)
    );
    CREATE INDEX cases_run ON cases(run_id);
    CREATE INDEX cases_minimised_from ON cases(minimised_from);

    CREATE TABLE signatures (
        signature       TEXT    PRIMARY KEY,
        classes         TEXT    NOT NULL,
        rule            TEXT,
        first_seen      INTEGER NOT NULL,
        last_seen       INTEGER NOT NULL,
        best_case_id    INTEGER NOT NULL REFERENCES cases(id),
        hit_count       INTEGER NOT NULL,
        expected        INTEGER GENERATED ALWAYS AS (rule IS NOT NULL) VIRTUAL
    );

    CREATE TABLE replays (
        id              INTEGER PRIMARY KEY,
        run_id          INTEGER REFERENCES runs(id),
        case_id         INTEGER NOT NULL REFERENCES cases(id),
        outcome         TEXT    NOT NULL CHECK (outcome IN ('reproduces', 'changed', 'fixed')),
        signature_now   TEXT,               -- NULL when the case no longer diverges
        at              INTEGER NOT NULL
    );
    CREATE INDEX replays_case ON replays(case_id);
    CREATE INDEX replays_run ON replays(run_id);
    "#,
    // 1 -> 2: dedupe on (signature, text_hash) instead of UNIQUE (signature, text), whose
    // index held every text again and came out bigger than the table itself (44 MB against
    // 29 MB for 20,000 cases of ~800 bytes). SQLite cannot drop a table constraint, so the
    // table is rebuilt (the store runs migrations with foreign keys off, as SQLite's
    // documented procedure for this requires). `cgdiff_fnv1a64` is registered by the store.
    r#"
    CREATE TABLE cases_v2 (
        id              INTEGER PRIMARY KEY,
        text            TEXT    NOT NULL,   -- the canonical case-file text
        text_hash       INTEGER NOT NULL,   -- FNV-1a 64 of text: the dedupe index key
        bytes           BLOB,               -- the fuzzer input it was decoded from, if any
        signature       TEXT    NOT NULL,
        classes         TEXT    NOT NULL,   -- comma-separated divergence classes
        rule            TEXT,               -- expected-difference rule, NULL if unexpected
        first_op        INTEGER NOT NULL,
        ops             INTEGER NOT NULL,
        minimised_from  INTEGER REFERENCES cases(id),
        found_by        TEXT    NOT NULL
                        CHECK (found_by IN ('campaign', 'cargo-fuzz', 'import', 'minimize')),
        run_id          INTEGER REFERENCES runs(id),
        tool_version    TEXT    NOT NULL,
        git_commit      TEXT,
        created_at      INTEGER NOT NULL,
        last_seen_at    INTEGER NOT NULL,
        hit_count       INTEGER NOT NULL DEFAULT 1
    );
    INSERT INTO cases_v2 (id, text, text_hash, bytes, signature, classes, rule, first_op, ops,
                          minimised_from, found_by, run_id, tool_version, git_commit,
                          created_at, last_seen_at, hit_count)
        SELECT id, text, cgdiff_fnv1a64(text), bytes, signature, classes, rule, first_op, ops,
               minimised_from, found_by, run_id, tool_version, git_commit,
               created_at, last_seen_at, hit_count
        FROM cases;
    DROP TABLE cases;
    ALTER TABLE cases_v2 RENAME TO cases;
    -- Not UNIQUE: the store keeps (signature, text) unique itself, inside its write
    -- transactions, comparing the text on a hash match.
    CREATE INDEX cases_signature_hash ON cases(signature, text_hash);
    CREATE INDEX cases_run ON cases(run_id);
    CREATE INDEX cases_minimised_from ON cases(minimised_from);
    "#,
    // 2 -> 3: buckets (docs/findings.md). A case has the bucket its divergence is in (NULL:
    // recorded before triage); a signature row is a *variant*, keyed by (signature, bucket),
    // so its rule and bucket are properties of its cases, never of the last one stored.
    // Occurrences count every divergent execution a run met (written once per run), with the
    // first and last run that met it. Old signature rows keep the bucket '' (before triage).
    r#"
    ALTER TABLE cases ADD COLUMN bucket TEXT;
    CREATE INDEX cases_bucket ON cases(bucket, signature);
    CREATE TABLE signatures_v3 (
        signature       TEXT    NOT NULL,
        bucket          TEXT    NOT NULL,   -- '' for variants recorded before triage
        classes         TEXT    NOT NULL,
        rule            TEXT,
        first_seen      INTEGER NOT NULL,
        last_seen       INTEGER NOT NULL,
        best_case_id    INTEGER NOT NULL REFERENCES cases(id),
        hit_count       INTEGER NOT NULL,
        occurrences     INTEGER NOT NULL DEFAULT 0,
        first_run       INTEGER REFERENCES runs(id),
        last_run        INTEGER REFERENCES runs(id),
        expected        INTEGER GENERATED ALWAYS AS (rule IS NOT NULL) VIRTUAL,
        PRIMARY KEY (signature, bucket)
    );
    INSERT INTO signatures_v3 (signature, bucket, classes, rule, first_seen, last_seen,
                               best_case_id, hit_count, occurrences)
        SELECT signature, '', classes, rule, first_seen, last_seen, best_case_id, hit_count,
               hit_count
        FROM signatures;
    DROP TABLE signatures;
    ALTER TABLE signatures_v3 RENAME TO signatures;
    CREATE INDEX signatures_bucket ON signatures(bucket);
    CREATE VIEW buckets AS
        SELECT bucket, count(*) AS variants, sum(occurrences) AS occurrences,
               sum(hit_count) AS hit_count, min(first_seen) AS first_seen,
               max(last_seen) AS last_seen, min(first_run) AS first_run,
               max(last_run) AS last_run
        FROM signatures GROUP BY bucket;
    "#,
];

/// The schema version this build creates and understands: the number of migrations.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;
