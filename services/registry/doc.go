// Package registry is the go-kit service that records registry facts in the career ledger.
package registry
