-- evcrm's personal-data keys (package internal/privacy): one data key per
-- data subject per tenant, wrapped by the master key named in the
-- configuration (kept outside the database). Never in the events.

-- +goose Up

-- One row per data subject ("customer:<uuid>", "lead:<uuid>"). wrapped is
-- the AES-256 data key sealed with the master key master_kid; it is set to
-- NULL when the subject is erased (crypto-shredding), and the row stays so
-- that data recorded later about the subject is stored erased as well.
CREATE TABLE privacy_keys (
    kid          uuid        NOT NULL,
    tenant       text        NOT NULL,
    subject      text        NOT NULL,
    master_kid   text,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    destroyed_by text,
    CONSTRAINT privacy_keys_pkey PRIMARY KEY (kid),
    CONSTRAINT privacy_keys_subject UNIQUE (tenant, subject),
    CONSTRAINT privacy_keys_state CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE INDEX privacy_keys_master ON privacy_keys (master_kid) WHERE wrapped IS NOT NULL;

-- A subject that belongs to another (a lead converted into a customer):
-- erasing the owner erases it too.
CREATE TABLE privacy_links (
    tenant  text NOT NULL,
    subject text NOT NULL,
    owner   text NOT NULL,
    CONSTRAINT privacy_links_pkey PRIMARY KEY (tenant, owner, subject)
);

-- The data subject of each stream, from the first event that named one
-- (a case's CaseOpened names its customer; CaseResolved does not).
CREATE TABLE privacy_streams (
    tenant    text NOT NULL,
    stream_id text NOT NULL,
    subject   text NOT NULL,
    CONSTRAINT privacy_streams_pkey PRIMARY KEY (tenant, stream_id)
);

-- +goose Down
DROP TABLE privacy_streams;
DROP TABLE privacy_links;
DROP TABLE privacy_keys;
