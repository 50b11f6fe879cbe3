-- evcrm's transparency log (package audit/auditlog): the RFC 6962 tree of
-- every recorded event, its leaves and its signed checkpoints.

-- +goose Up

-- The hashes of the tree, as golang.org/x/mod/sumdb/tlog stores them:
-- id is the stored-hash index (tlog.StoredHashIndex), about two per leaf.
-- Written once, never updated.
CREATE TABLE audit_hashes (
    id   bigint NOT NULL,
    hash bytea  NOT NULL CHECK (length(hash) = 32),
    CONSTRAINT audit_hashes_pkey PRIMARY KEY (id)
);

-- One row per leaf: which event it is, and its canonical encoding
-- (docs/audit.md). tenant, correlation_id and occurred_at are copies of the
-- event's metadata for the audit API's filters.
CREATE TABLE audit_leaves (
    leaf_index       bigint      NOT NULL,
    event_id         uuid        NOT NULL,
    stream_id        text        NOT NULL,
    version          bigint      NOT NULL,
    commit_position  bigint      NOT NULL,
    prepare_position bigint      NOT NULL,
    tenant           text        NOT NULL,
    correlation_id   uuid,
    recorded_at      timestamptz NOT NULL,
    occurred_at      timestamptz,
    leaf             bytea       NOT NULL,
    CONSTRAINT audit_leaves_pkey PRIMARY KEY (leaf_index),
    CONSTRAINT audit_leaves_event_id_key UNIQUE (event_id)
);
CREATE INDEX audit_leaves_correlation_idx ON audit_leaves (correlation_id) WHERE correlation_id IS NOT NULL;

-- The builder's checkpoint: the tree's size and root, and the global-log
-- position of its last leaf. One row, updated in the transaction that
-- adds the leaves.
CREATE TABLE audit_state (
    id               boolean     NOT NULL DEFAULT true CHECK (id),
    tree_size        bigint      NOT NULL CHECK (tree_size >= 0),
    commit_position  bigint      NOT NULL,
    prepare_position bigint      NOT NULL,
    root_hash        bytea       NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT audit_state_pkey PRIMARY KEY (id)
);
INSERT INTO audit_state (tree_size, commit_position, prepare_position, root_hash)
VALUES (0, 0, 0, decode('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'hex'));

-- Signed checkpoints (C2SP tlog-checkpoint notes), one per tree size.
CREATE TABLE audit_checkpoints (
    tree_size  bigint      NOT NULL,
    root_hash  bytea       NOT NULL,
    signed_at  timestamptz NOT NULL,
    key_name   text        NOT NULL,
    note       bytea       NOT NULL,
    CONSTRAINT audit_checkpoints_pkey PRIMARY KEY (tree_size)
);

-- +goose Down
DROP TABLE audit_checkpoints;
DROP TABLE audit_state;
DROP TABLE audit_leaves;
DROP TABLE audit_hashes;
