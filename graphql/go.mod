module github.com/craftledger/craftledger/graphql

go 1.26.0

require (
	github.com/EventStore/EventStore-Client-Go/v4 v4.2.0
	github.com/craftledger/craftledger/events v0.0.0
	github.com/craftledger/craftledger/pkg v0.0.0
	github.com/craftledger/craftledger/services/registry v0.0.0
	github.com/graphql-go/graphql v0.8.1
)

require (
	github.com/chromedp/cdproto v0.0.0-20250724212937-08a3db8b4327
	github.com/chromedp/chromedp v0.14.2
	github.com/chromedp/sysutil v1.1.0 // indirect
	github.com/go-json-experiment/json v0.0.0-20250725192818-e39067aee2d2 // indirect
	github.com/gobwas/httphead v0.1.0 // indirect
	github.com/gobwas/pool v0.2.1 // indirect
	github.com/gobwas/ws v1.4.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace (
	github.com/craftledger/craftledger/events => ../events
	github.com/craftledger/craftledger/pkg => ../pkg
	github.com/craftledger/craftledger/services/registry => ../services/registry
)
