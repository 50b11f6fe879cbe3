-- +goose Up
-- API bearer tokens. Only the SHA-256 of a token is stored; the token itself
-- is shown once, when it is created.
CREATE TABLE api_tokens (
    id           uuid        PRIMARY KEY,
    name         text        NOT NULL CHECK (name <> '' AND length(name) <= 200),
    role         text        NOT NULL,
    tenant       text        NOT NULL,
    token_hash   bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    hint         text        NOT NULL, -- the token's first characters, to tell tokens apart in lists
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_tokens_name ON api_tokens (name);

-- Idempotency keys of the command API: the first response to a (scope, key)
-- is kept and returned again to a retry with the same request; another
-- request under the same key is refused. status IS NULL while the first
-- request is being handled (locked_until bounds how long a crashed request
-- can hold the key).
CREATE TABLE api_idempotency_keys (
    scope        text        NOT NULL, -- tenant and principal name
    key          text        NOT NULL,
    operation    text        NOT NULL,
    request_hash bytea       NOT NULL,
    status       integer,
    response     bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    locked_until timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX api_idempotency_keys_expires_at ON api_idempotency_keys (expires_at);

-- +goose Down
DROP TABLE api_idempotency_keys;
DROP TABLE api_tokens;
