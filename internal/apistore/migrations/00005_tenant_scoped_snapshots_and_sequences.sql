-- +goose Up
-- Tenants (issue 8). Snapshots are keyed by tenant and stream, so a command
-- of one tenant can never load another tenant's snapshot. Snapshots are a
-- cache: the old rows (of no tenant) are dropped and retaken on demand.
DELETE FROM evcrm_snapshots;
ALTER TABLE evcrm_snapshots ADD COLUMN tenant text NOT NULL;
ALTER TABLE evcrm_snapshots DROP CONSTRAINT evcrm_snapshots_pkey;
ALTER TABLE evcrm_snapshots ADD PRIMARY KEY (tenant, stream_id);

-- Sequences count per tenant. Every tenant known from its tokens (and the
-- default tenant of EVCRM_TENANT) continues from the old shared counter, so
-- no reference handed out before is handed out again.
ALTER TABLE command_sequences ADD COLUMN tenant text NOT NULL DEFAULT '';
ALTER TABLE command_sequences DROP CONSTRAINT command_sequences_pkey;
ALTER TABLE command_sequences ADD PRIMARY KEY (tenant, name);
INSERT INTO command_sequences (tenant, name, last)
SELECT t.tenant, s.name, s.last
FROM command_sequences s
CROSS JOIN (SELECT DISTINCT tenant FROM api_tokens UNION SELECT 'default') t
WHERE s.tenant = '' AND t.tenant <> ''
ON CONFLICT DO NOTHING;
ALTER TABLE command_sequences ALTER COLUMN tenant DROP DEFAULT;

-- +goose Down
DELETE FROM command_sequences WHERE tenant <> '';
ALTER TABLE command_sequences DROP CONSTRAINT command_sequences_pkey;
ALTER TABLE command_sequences DROP COLUMN tenant;
ALTER TABLE command_sequences ADD PRIMARY KEY (name);
DELETE FROM evcrm_snapshots;
ALTER TABLE evcrm_snapshots DROP CONSTRAINT evcrm_snapshots_pkey;
ALTER TABLE evcrm_snapshots DROP COLUMN tenant;
ALTER TABLE evcrm_snapshots ADD PRIMARY KEY (stream_id);
