module github.com/craftledger/craftledger/services/competition

go 1.26.0

require (
	github.com/craftledger/craftledger/events v0.0.0
	github.com/craftledger/craftledger/pkg v0.0.0
	github.com/craftledger/craftledger/services/training v0.0.0
)

require gopkg.in/yaml.v3 v3.0.1

replace (
	github.com/craftledger/craftledger/events => ../../events
	github.com/craftledger/craftledger/pkg => ../../pkg
	github.com/craftledger/craftledger/services/training => ../training
)
