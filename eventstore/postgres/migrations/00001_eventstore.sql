-- The evcrm event store: streams, events and the append function.
-- Objects are created in the first schema of the connection's search_path.

-- +goose Up

-- One row per stream. metadata is reserved for stream settings (max age,
-- max count, soft delete); nothing reads it yet.
CREATE TABLE evcrm_streams (
    stream_id  text        NOT NULL,
    version    bigint      NOT NULL CHECK (version >= 0),
    metadata   jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT evcrm_streams_pkey PRIMARY KEY (stream_id)
-- fillfactor leaves room for HOT updates of the version.
) WITH (fillfactor = 80);

-- The log. An event's global position is (tx_id, seq): tx_id is the id of
-- the transaction that wrote it, seq orders events within it. Readers only
-- return rows whose tx_id is below the oldest transaction still running
-- (see package eventstore/postgres), so the primary key order is the order
-- subscribers see.
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

-- evcrm_append writes events to one stream in one statement:
--
--   SELECT * FROM evcrm_append(stream, kind, version, ids, types, schema_versions, data, metadata)
--
-- kind: 0 any, 1 no stream, 2 stream exists, 3 exact (version). It must run
-- as its own transaction (autocommit): it takes the stream's advisory lock
-- before the transaction writes anything, so that transaction ids of appends
-- to one stream are assigned in lock order, which makes (tx_id, seq) order
-- agree with version order.
--
-- Errors: SQLSTATE EV001 wrong expected version (DETAIL: the actual version),
-- EV002 event id already used for other content or at another place.
-- Reusing the id of an event of another stream fails on the unique
-- constraint evcrm_events_event_id_key.
--
-- +goose StatementBegin
CREATE FUNCTION evcrm_append(
    p_stream_id        text,
    p_expected_kind    integer,
    p_expected_version bigint,
    p_ids              uuid[],
    p_types            text[],
    p_schema_versions  integer[],
    p_data             jsonb[],
    p_metadata         jsonb[]
) RETURNS TABLE (out_version bigint, out_tx_id bigint, out_seq bigint)
LANGUAGE plpgsql
VOLATILE -- each statement takes a fresh snapshot, so reads after the lock see the previous append
SET search_path FROM CURRENT
AS $fn$
DECLARE
    n             integer := coalesce(cardinality(p_ids), 0);
    v_current     bigint;
    v_exists      boolean;
    v_first_stream  text;
    v_first_version bigint;
    v_matching    integer;
    v_tx          bigint;
    v_seq         bigint;
BEGIN
    IF n = 0 OR cardinality(p_types) <> n OR cardinality(p_schema_versions) <> n
       OR cardinality(p_data) <> n OR cardinality(p_metadata) <> n THEN
        RAISE EXCEPTION 'evcrm_append: the event arrays must be non-empty and of equal length'
            USING ERRCODE = '22023';
    END IF;

    -- Before any write: see the header.
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 7420));

    SELECT s.version INTO v_current FROM evcrm_streams s WHERE s.stream_id = p_stream_id;
    v_exists := FOUND;
    v_current := coalesce(v_current, 0);

    -- Idempotency: the first event is already stored.
    SELECT e.stream_id, e.version INTO v_first_stream, v_first_version
      FROM evcrm_events e WHERE e.event_id = p_ids[1];
    IF FOUND THEN
        IF v_first_stream <> p_stream_id THEN
            RAISE EXCEPTION 'event % is in another stream', p_ids[1]
                USING ERRCODE = 'EV002', DETAIL = 'other stream';
        END IF;
        SELECT count(*) INTO v_matching
          FROM unnest(p_ids, p_types, p_schema_versions, p_data) WITH ORDINALITY AS u(id, typ, sv, d, ord)
          JOIN evcrm_events e ON e.stream_id = p_stream_id AND e.version = v_first_version + u.ord - 1
         WHERE e.event_id = u.id AND e.event_type = u.typ AND e.schema_version = u.sv AND e.data = u.d;
        IF v_matching <> n THEN
            RAISE EXCEPTION 'events were written before with other content'
                USING ERRCODE = 'EV002', DETAIL = 'other content';
        END IF;
        -- The expectation must have held where the events were written.
        IF NOT (CASE p_expected_kind
                WHEN 1 THEN v_first_version = 1
                WHEN 2 THEN v_first_version > 1
                WHEN 3 THEN v_first_version = p_expected_version + 1
                ELSE true END) THEN
            RAISE EXCEPTION 'events were written before at version %', v_first_version
                USING ERRCODE = 'EV002', DETAIL = 'other place';
        END IF;
        RETURN QUERY
            SELECT e.version, e.tx_id, e.seq FROM evcrm_events e
             WHERE e.stream_id = p_stream_id AND e.version = v_first_version + n - 1;
        RETURN;
    END IF;

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
        SELECT u.id, p_stream_id, split_part(p_stream_id, '-', 1), v_current + u.ord, u.typ, u.sv, u.d, u.m
          FROM unnest(p_ids, p_types, p_schema_versions, p_data, p_metadata) WITH ORDINALITY AS u(id, typ, sv, d, m, ord)
         ORDER BY u.ord
        RETURNING evcrm_events.tx_id, evcrm_events.seq
    )
    SELECT max(i.tx_id), max(i.seq) INTO v_tx, v_seq FROM inserted i;

    IF v_exists THEN
        UPDATE evcrm_streams SET version = v_current + n, updated_at = now()
         WHERE stream_id = p_stream_id;
    ELSE
        INSERT INTO evcrm_streams (stream_id, version) VALUES (p_stream_id, n);
    END IF;

    RETURN QUERY SELECT v_current + n, v_tx, v_seq;
END
$fn$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION evcrm_append(text, integer, bigint, uuid[], text[], integer[], jsonb[], jsonb[]);
DROP TABLE evcrm_events;
DROP TABLE evcrm_streams;
