package servicekit_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

func TestCommandLogLevels(t *testing.T) {
	ctx := context.Background()
	res := command.Result{Stream: "craftsman-c1", Revision: 4}
	for _, tc := range []struct {
		name  string
		level slog.Level
		err   error
		want  string // the logged line, "" for nothing
		asked bool   // whether the success attributes were asked for
	}{
		{"success, debug on", slog.LevelDebug, nil, `level=DEBUG msg=command service=training method=Enrol craftsman=c1 stream=craftsman-c1 revision=4 replayed=false took=`, true},
		{"success, debug off", slog.LevelInfo, nil, "", false},
		{"rejection", slog.LevelInfo, errs.E(errs.NotFound, "craftsman c1"), `level=INFO msg="command rejected" service=training method=Enrol craftsman=c1 code=NOT_FOUND err="craftsman c1"`, false},
		{"failure", slog.LevelError, errors.New("disk on fire"), `level=ERROR msg="command failed" service=training method=Enrol craftsman=c1 code=INTERNAL err="disk on fire"`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: tc.level, ReplaceAttr: dropTime}))
			l := servicekit.CommandLog{Logger: logger, Service: "training", Subject: "craftsman"}
			asked := false
			l.Done(ctx, "Enrol", "c1", time.Now(), tc.err, func() []any { asked = true; return servicekit.ResultAttrs(res) })
			got := buf.String()
			if tc.want == "" && got != "" || tc.want != "" && !strings.HasPrefix(got, tc.want) {
				t.Errorf("logged %q, want %q", got, tc.want)
			}
			if asked != tc.asked {
				t.Errorf("success attributes asked: %v, want %v", asked, tc.asked)
			}
		})
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}
