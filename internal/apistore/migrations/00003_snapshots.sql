-- +goose Up
-- The latest snapshot of long streams (commands.SnapshotStore): a cache of
-- an aggregate's state after event `version`, in the aggregate's snapshot
-- `schema`. Rows can be deleted at any time (the command side then replays
-- the whole stream); truncate the table when the event store is rebuilt.
CREATE TABLE evcrm_snapshots (
    stream_id        text        PRIMARY KEY,
    version          bigint      NOT NULL CHECK (version > 0),
    position_commit  bigint      NOT NULL,
    position_prepare bigint      NOT NULL,
    schema           integer     NOT NULL,
    state            jsonb       NOT NULL,
    taken_at         timestamptz NOT NULL
);

-- +goose Down
DROP TABLE evcrm_snapshots;
