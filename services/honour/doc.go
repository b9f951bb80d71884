// Package honour is the go-kit service that records honour facts in the career ledger.
package honour
