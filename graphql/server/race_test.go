//go:build race

package server_test

// raceEnabled: the race detector multiplies CPU time several times over,
// so CPU budgets are not asserted under it.
const raceEnabled = true
