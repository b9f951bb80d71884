// Package mentorship is the go-kit service that records mentorship facts in the career ledger.
package mentorship
