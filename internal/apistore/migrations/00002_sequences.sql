-- +goose Up
-- Named counters of the command side, e.g. "complaint/2026" for complaint
-- references CMP-2026-NNNNNN. Numbers are unique; a failed command leaves a gap.
CREATE TABLE command_sequences (
    name text   PRIMARY KEY,
    last bigint NOT NULL CHECK (last > 0)
);

-- +goose Down
DROP TABLE command_sequences;
