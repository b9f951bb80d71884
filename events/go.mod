module github.com/craftledger/craftledger/events

go 1.26
