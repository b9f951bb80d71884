// Package competition is the go-kit service that records competition facts in the career ledger.
package competition
