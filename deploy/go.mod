module github.com/craftledger/craftledger/deploy

go 1.26
