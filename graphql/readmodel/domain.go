package readmodel

import "github.com/craftledger/craftledger/pkg/eventstore"

// domain is the derived, decoded state (filled in once the events module's
// catalogue and career fold are adopted).
type domain struct{}

func newDomain() *domain                             { return &domain{} }
func (d *domain) apply(ev *eventstore.RecordedEvent) {}
func (d *domain) settle()                            {}

func (d *domain) chainStatus(stream string, revision uint64) string { return "unchained" }
