// Package craftledger assembles the product: the all-in-one server and the ledgerctl tool.
package craftledger
