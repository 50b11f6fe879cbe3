// Package audit makes evcrm's event log evidence an auditor can check
// without trusting the operator, the way the Go checksum database does:
// every recorded event is a leaf of an RFC 6962 Merkle tree
// (golang.org/x/mod/sumdb/tlog), in global log order, and the tree head is
// published as a signed note (golang.org/x/mod/sumdb/note, ed25519) in
// the C2SP tlog-checkpoint format.
//
// This package is what an outside verifier needs and nothing else: the
// canonical leaf encoding (Leaf, docs/audit.md), checkpoints (parse, sign,
// open with a public key), inclusion and consistency proof checks, and
// the offline check of an audit pack. It does no I/O with a database; the
// log itself is kept in PostgreSQL by package audit/auditlog.
package audit
