// Package faulttest holds fault-injection tests that run the real evcrm
// binary against a real PostgreSQL: kill -9 of the server under concurrent
// command load (in make test), and, behind the soak build tag, more.
package faulttest
