-- The evcrm event store: streams, events and the append function.
-- Objects are created in the first schema of the connection's search_path.

-- +goose Up

-- One row per stream that has settings. Reserved for stream metadata (max
-- age, max count, soft delete): nothing writes or reads it yet. A stream's
-- version is not kept here but read from evcrm_events, whose unique index
-- on (stream_id, version) answers it with one probe; keeping a copy would
-- cost a row update per append.
CREATE TABLE evcrm_streams (
    stream_id  text        NOT NULL,
    metadata   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT evcrm_streams_pkey PRIMARY KEY (stream_id)
);

-- The log. An event's global position is (tx_id, seq): tx_id is the id of
-- the transaction that wrote it, seq orders events within it. Readers of
-- the global log only return rows whose tx_id is below the oldest
-- transaction still running (see package eventstore/postgres), so the
-- primary key order is the order subscribers see.
--
-- Appends are single INSERT statements that compute the next version from
-- the stream's last event; the unique index on (stream_id, version) turns
-- a concurrent append to the same stream into a unique violation, which the
-- store retries or reports as a wrong expected version.
CREATE TABLE evcrm_events (
    tx_id          bigint      NOT NULL DEFAULT (pg_current_xact_id()::text)::bigint,
    seq            bigint      NOT NULL GENERATED ALWAYS AS IDENTITY,
    event_id       uuid        NOT NULL,
    stream_id      text        NOT NULL,
    category       text        NOT NULL,
    version        bigint      NOT NULL CHECK (version >= 1),
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    data           jsonb       NOT NULL,
    metadata       jsonb       NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT evcrm_events_pkey PRIMARY KEY (tx_id, seq),
    CONSTRAINT evcrm_events_event_id_key UNIQUE (event_id),
    CONSTRAINT evcrm_events_stream_version_key UNIQUE (stream_id, version)
);

-- evcrm_append appends events to a stream after waiting for the stream's
-- advisory lock, so that appends to a busy stream queue instead of racing:
--
--   SELECT * FROM evcrm_append(stream, category, kind, version, ids, types, schema_versions, data, metadata)
--
-- kind: 0 any, 1 no stream, 2 stream exists, 3 exact (version). It must run
-- as its own transaction (autocommit): the lock is taken before the
-- transaction writes anything, and each statement after it reads with a
-- fresh snapshot. A wrong expected version raises SQLSTATE EV001 with the
-- actual version in DETAIL. The store uses it when its lock-free INSERT
-- keeps losing races on one stream.
--
-- +goose StatementBegin
CREATE FUNCTION evcrm_append(
    p_stream_id        text,
    p_category         text,
    p_expected_kind    integer,
    p_expected_version bigint,
    p_ids              uuid[],
    p_types            text[],
    p_schema_versions  integer[],
    p_data             jsonb[],
    p_metadata         jsonb[],
    OUT out_version    bigint,
    OUT out_tx_id      bigint,
    OUT out_seq        bigint
)
LANGUAGE plpgsql
AS $fn$
DECLARE
    n         integer := coalesce(cardinality(p_ids), 0);
    v_current bigint;
BEGIN
    IF n = 0 OR cardinality(p_types) <> n OR cardinality(p_schema_versions) <> n
       OR cardinality(p_data) <> n OR cardinality(p_metadata) <> n THEN
        RAISE EXCEPTION 'evcrm_append: the event arrays must be non-empty and of equal length'
            USING ERRCODE = '22023';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 7420));
    SELECT e.version INTO v_current FROM evcrm_events e
     WHERE e.stream_id = p_stream_id ORDER BY e.version DESC LIMIT 1;
    v_current := coalesce(v_current, 0);
    IF NOT (CASE p_expected_kind
            WHEN 1 THEN v_current = 0
            WHEN 2 THEN v_current > 0
            WHEN 3 THEN v_current = p_expected_version
            ELSE true END) THEN
        RAISE EXCEPTION 'wrong expected version'
            USING ERRCODE = 'EV001', DETAIL = v_current::text;
    END IF;
    WITH inserted AS (
        INSERT INTO evcrm_events (event_id, stream_id, category, version, event_type, schema_version, data, metadata)
        SELECT u.id, p_stream_id, p_category, v_current + u.ord, u.typ, u.sv, u.d, u.m
          FROM unnest(p_ids, p_types, p_schema_versions, p_data, p_metadata) WITH ORDINALITY AS u(id, typ, sv, d, m, ord)
         ORDER BY u.ord
        RETURNING evcrm_events.tx_id, evcrm_events.seq
    )
    SELECT max(i.tx_id), max(i.seq) INTO out_tx_id, out_seq FROM inserted i;
    out_version := v_current + n;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION evcrm_append(text, text, integer, bigint, uuid[], text[], integer[], jsonb[], jsonb[]);
DROP TABLE evcrm_events;
DROP TABLE evcrm_streams;
