//go:build !linux

package esdbserver_test

import "os"

func fdatasync(f *os.File) error { return f.Sync() }
