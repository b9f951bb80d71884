package schema

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/pkg/audit"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
)

// Typed argument helpers: every one checks its type assertion and reports
// a wrong type as errs.InvalidArgument naming the argument.

func argString(p graphql.ResolveParams, name string) (string, bool, error) {
	v, ok := p.Args[name]
	if !ok || v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, errs.E(errs.InvalidArgument, "argument %s: want a string, got %T", name, v)
	}
	return s, true, nil
}

func argRequiredString(p graphql.ResolveParams, name string) (string, error) {
	s, ok, err := argString(p, name)
	if err != nil {
		return "", err
	}
	if !ok || s == "" {
		return "", errs.E(errs.InvalidArgument, "argument %s is required", name)
	}
	return s, nil
}

func argInt(p graphql.ResolveParams, name string) (int, bool, error) {
	v, ok := p.Args[name]
	if !ok || v == nil {
		return 0, false, nil
	}
	n, ok := v.(int)
	if !ok {
		return 0, false, errs.E(errs.InvalidArgument, "argument %s: want an integer, got %T", name, v)
	}
	return n, true, nil
}

func argStrings(p graphql.ResolveParams, name string) ([]string, error) {
	v, ok := p.Args[name]
	if !ok || v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, errs.E(errs.InvalidArgument, "argument %s: want a list, got %T", name, v)
	}
	out := make([]string, 0, len(list))
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			return nil, errs.E(errs.InvalidArgument, "argument %s[%d]: want a string, got %T", name, i, x)
		}
		out = append(out, s)
	}
	return out, nil
}

// argTime reads a date ("2024-05-01", end of that day in UTC+8 when end is set)
// or an RFC 3339 instant.
func argTime(p graphql.ResolveParams, name string, end bool) (time.Time, bool, error) {
	s, ok, err := argString(p, name)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, err := ParseTime(s, end)
	if err != nil {
		return time.Time{}, false, errs.E(errs.InvalidArgument, "argument %s: %v", name, err)
	}
	return t, true, nil
}

// ParseTime reads "2006-01-02" — a date of the ledger's calendar (UTC+8):
// its first instant, or its last nanosecond when end is set — or an
// RFC 3339 instant: audit.ParseTime, so that ledgerctl and the API read a
// date as the same instant.
func ParseTime(s string, end bool) (time.Time, error) { return audit.ParseTime(s, end) }

// ParsePosition reads a $all position: "commit", "commit/prepare", or the
// "position" object of a command's answer as JSON ({"commit":…,"prepare":…}).
func ParsePosition(s string) (eventstore.Position, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		var p struct {
			Commit  *uint64 `json:"commit"`
			Prepare *uint64 `json:"prepare"`
		}
		if err := json.Unmarshal([]byte(s), &p); err != nil || p.Commit == nil {
			return eventstore.Position{}, errs.E(errs.InvalidArgument, "position %q: want {\"commit\":…,\"prepare\":…}", s)
		}
		pos := eventstore.Position{Commit: *p.Commit, Prepare: *p.Commit}
		if p.Prepare != nil {
			pos.Prepare = *p.Prepare
		}
		return pos, nil
	}
	c, pr, two := strings.Cut(s, "/")
	commit, err := strconv.ParseUint(c, 10, 64)
	if err != nil {
		return eventstore.Position{}, errs.E(errs.InvalidArgument, "position %q: want commit or commit/prepare", s)
	}
	prepare := commit
	if two {
		if prepare, err = strconv.ParseUint(pr, 10, 64); err != nil {
			return eventstore.Position{}, errs.E(errs.InvalidArgument, "position %q: want commit or commit/prepare", s)
		}
	}
	return eventstore.Position{Commit: commit, Prepare: prepare}, nil
}

// FormatPosition writes a position as ParsePosition reads it.
func FormatPosition(p eventstore.Position) string {
	return strconv.FormatUint(p.Commit, 10) + "/" + strconv.FormatUint(p.Prepare, 10)
}
