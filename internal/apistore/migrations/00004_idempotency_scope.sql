-- +goose Up
-- Idempotency keys are scoped by tenant and principal as separate columns:
-- the joined scope 'tenant/name' could not tell tenant 't/x' with name 'y'
-- from tenant 't' with name 'x/y'. Rows whose old scope splits only one way
-- (one '/') are kept; ambiguous ones (keys live 24 hours) are dropped.
ALTER TABLE api_idempotency_keys ADD COLUMN tenant text, ADD COLUMN principal text;
UPDATE api_idempotency_keys SET tenant = split_part(scope, '/', 1), principal = split_part(scope, '/', 2)
WHERE scope ~ '^[^/]*/[^/]*$';
DELETE FROM api_idempotency_keys WHERE tenant IS NULL;
ALTER TABLE api_idempotency_keys DROP CONSTRAINT api_idempotency_keys_pkey;
ALTER TABLE api_idempotency_keys DROP COLUMN scope;
ALTER TABLE api_idempotency_keys ALTER COLUMN tenant SET NOT NULL, ALTER COLUMN principal SET NOT NULL;
ALTER TABLE api_idempotency_keys ADD PRIMARY KEY (tenant, principal, key);

-- +goose Down
ALTER TABLE api_idempotency_keys ADD COLUMN scope text;
UPDATE api_idempotency_keys SET scope = tenant || '/' || principal;
ALTER TABLE api_idempotency_keys DROP CONSTRAINT api_idempotency_keys_pkey;
ALTER TABLE api_idempotency_keys DROP COLUMN tenant, DROP COLUMN principal;
ALTER TABLE api_idempotency_keys ALTER COLUMN scope SET NOT NULL;
ALTER TABLE api_idempotency_keys ADD PRIMARY KEY (scope, key);
