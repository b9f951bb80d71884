module github.com/craftledger/craftledger/services/craftledger

go 1.26

require (
	github.com/craftledger/craftledger/events v0.0.0
	github.com/craftledger/craftledger/pkg v0.0.0
	github.com/craftledger/craftledger/graphql v0.0.0
	github.com/craftledger/craftledger/services/registry v0.0.0
	github.com/craftledger/craftledger/services/training v0.0.0
	github.com/craftledger/craftledger/services/competition v0.0.0
	github.com/craftledger/craftledger/services/mentorship v0.0.0
	github.com/craftledger/craftledger/services/honour v0.0.0
)

replace (
	github.com/craftledger/craftledger/events => ../../events
	github.com/craftledger/craftledger/pkg => ../../pkg
	github.com/craftledger/craftledger/graphql => ../../graphql
	github.com/craftledger/craftledger/services/registry => ../registry
	github.com/craftledger/craftledger/services/training => ../training
	github.com/craftledger/craftledger/services/competition => ../competition
	github.com/craftledger/craftledger/services/mentorship => ../mentorship
	github.com/craftledger/craftledger/services/honour => ../honour
)
