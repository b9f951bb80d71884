//go:build !linux

package readmodel

import (
	"errors"
	"os"
)

// Without Linux's mmap and madvise calls the raw log's chunks stay on the
// Go heap and a snapshot is read into memory (see spill.go).

// canMap: no spill file is made (grow answers false at once).
const canMap = false

func mapShared(*os.File, int64, int) ([]byte, error) {
	return nil, errors.New("file mappings are used on linux only")
}

func unmap([]byte) {}

func release([]byte) {}

func mapFile(path string) (data []byte, unmap func(), mapped bool, err error) {
	b, err := os.ReadFile(path)
	return b, func() {}, false, err
}
