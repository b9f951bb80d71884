module github.com/craftledger/craftledger/services/honour

go 1.26

require (
	github.com/craftledger/craftledger/events v0.0.0
	github.com/craftledger/craftledger/pkg v0.0.0
)

replace (
	github.com/craftledger/craftledger/events => ../../events
	github.com/craftledger/craftledger/pkg => ../../pkg
)
