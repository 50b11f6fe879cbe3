-- +goose Up
-- Customer access tokens (issue 14): each lets one customer of one tenant
-- read its own orders, cases and complaints (GET /v1/me/...). Like API
-- tokens, only the SHA-256 is stored; they always expire.
CREATE TABLE customer_access_tokens (
    id           uuid        PRIMARY KEY,
    tenant       text        NOT NULL,
    customer_id  uuid        NOT NULL,
    token_hash   bytea       NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    hint         text        NOT NULL,
    created_by   text        NOT NULL, -- the staff token's name
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX customer_access_tokens_customer ON customer_access_tokens (tenant, customer_id);

-- +goose Down
DROP TABLE customer_access_tokens;
