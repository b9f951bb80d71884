package schema

import "github.com/craftledger/craftledger/graphql/readmodel"

// eligBase is a model the eligibility entries can serve (readmodel.Memory
// and the models that wrap it).
type eligBase interface {
	readmodel.Reader
	seqScanner
}

// eligCarrier is a model that carries its eligibility entries to the
// schema, keeping what the model it wraps carries (its as-of index).
type eligCarrier struct {
	eligBase
	e *EligEntries
}

func (m eligCarrier) eligEntries() *EligEntries { return m.e }

func (m eligCarrier) asOfIndex() *AsOfIndex { return asOfIndexOf(m.eligBase) }

// WithEligEntries returns the model to give the schema (Deps.Model) so
// that its eligibleFor queries read e's entries: m carrying e (m itself
// when it has no population scans, or e is nil).
func WithEligEntries(m readmodel.Reader, e *EligEntries) readmodel.Reader {
	base, ok := m.(eligBase)
	if !ok || e == nil {
		return m
	}
	return eligCarrier{base, e}
}
