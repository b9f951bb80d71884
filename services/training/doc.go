// Package training is the go-kit service that records training facts in the career ledger.
package training
