package registry

import (
	"context"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// CraftsmanLine is one back-filled registration: a JSON Lines object, or a
// CSV row with the columns of CraftsmanColumns.
type CraftsmanLine struct {
	// Key is the line's idempotency key; empty = derived from the content.
	Key string `json:"key,omitempty"`
	RegisterCraftsmanRequest
}

// EmploymentLine is one back-filled employment period: started on
// occurredAt and, when endedOn is set, ended then (a past employment).
type EmploymentLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	StartEmploymentRequest
	EndedOn   string `json:"endedOn,omitempty"`
	EndReason string `json:"endReason,omitempty"`
}

// TradeLine is one back-filled trade a craftsman entered.
type TradeLine struct {
	CraftsmanID string `json:"craftsmanId"`
	Key         string `json:"key,omitempty"`
	EnterTradeRequest
}

// CSV columns of the back-fill files (header names; order is free).
var (
	CraftsmanColumns  = []string{"craftsmanId", "key", "nationalId", "birthDate", "region", "name", "phone", "email", "occurredAt"}
	EmploymentColumns = []string{"craftsmanId", "key", "employmentId", "employerOrgId", "employerName", "tradeCode", "tradeName",
		"position", "occurredAt", "endedOn", "endReason"}
	TradeColumns = []string{"craftsmanId", "key", "tradeCode", "tradeName", "occurredAt"}
)

type prepared struct {
	craftsman, key string
	run            func(context.Context) (command.Result, error)
	build          func(context.Context) (command.Command, error)
}

type linePreparer func(svc Service, b batcher, rec command.Record) (prepared, error)

// backfillPrepare authorizes the whole request (issuers and admins only),
// then makes each line into its command (command.PrepareImport: the line's
// key, source "import", one correlation id for the file).
func backfillPrepare(svc Service, prep linePreparer) func(ctx context.Context, format string) (command.PrepareFunc, error) {
	b, _ := servicekit.Find[batcher](svc) // under the middlewares
	return command.PrepareImport(servicekit.AdmitImport, func(rec command.Record) (command.Line, error) {
		p, err := prep(svc, b, rec)
		if err != nil {
			return command.Line{}, err
		}
		l := command.Line{Shard: p.craftsman, Key: p.key, Run: p.run, Build: p.build}
		if b != nil {
			l.Handler = b.handler()
		}
		return l, nil
	})
}

func prepareCraftsman(svc Service, b batcher, rec command.Record) (prepared, error) {
	var l CraftsmanLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(CraftsmanColumns); err != nil {
			return prepared{}, err
		}
		l = CraftsmanLine{Key: f["key"], RegisterCraftsmanRequest: RegisterCraftsmanRequest{CraftsmanID: f["craftsmanId"],
			NationalID: f["nationalId"], BirthDate: f["birthDate"], Region: f["region"], OccurredAt: f["occurredAt"]}}
		if f["name"] != "" || f["phone"] != "" || f["email"] != "" {
			l.Personal = &events.Personal{Name: f["name"], Phone: f["phone"], Email: f["email"]}
		}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return prepared{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return prepared{}, servicekit.Invalid(err)
	}
	req := l.RegisterCraftsmanRequest
	p := prepared{craftsman: l.CraftsmanID, key: l.Key,
		run: func(ctx context.Context) (command.Result, error) { return svc.RegisterCraftsman(ctx, req) }}
	if b != nil {
		p.build = func(ctx context.Context) (command.Command, error) { return b.registerCommand(ctx, req) }
	}
	return p, nil
}

func prepareEmployment(svc Service, b batcher, rec command.Record) (prepared, error) {
	var l EmploymentLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(EmploymentColumns); err != nil {
			return prepared{}, err
		}
		l = EmploymentLine{CraftsmanID: f["craftsmanId"], Key: f["key"], EndedOn: f["endedOn"], EndReason: f["endReason"],
			StartEmploymentRequest: StartEmploymentRequest{EmploymentID: f["employmentId"], EmployerOrgID: f["employerOrgId"],
				EmployerName: f["employerName"], Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]},
				Position: f["position"], OccurredAt: f["occurredAt"]}}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return prepared{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return prepared{}, servicekit.Invalid(err)
	}
	req := l.StartEmploymentRequest
	req.CraftsmanID = l.CraftsmanID
	var end *EndEmploymentRequest
	if l.EndedOn != "" {
		end = &EndEmploymentRequest{CraftsmanID: l.CraftsmanID, EmploymentID: req.EmploymentID, Reason: l.EndReason, OccurredAt: l.EndedOn}
	} else if l.EndReason != "" {
		return prepared{}, kit.Invalid("endReason", "needs endedOn")
	}
	p := prepared{craftsman: l.CraftsmanID, key: l.Key}
	if b != nil {
		p.build = func(ctx context.Context) (command.Command, error) { return b.employmentCommand(ctx, req, end) }
		p.run = func(ctx context.Context) (command.Result, error) {
			c, err := b.employmentCommand(ctx, req, end)
			if err != nil {
				return command.Result{}, err
			}
			return b.handler().Execute(ctx, c)
		}
		return p, nil
	}
	if end != nil {
		return prepared{}, errs.E(errs.Internal, "past employments need the service implementation")
	}
	p.run = func(ctx context.Context) (command.Result, error) { return svc.StartEmployment(ctx, req) }
	return p, nil
}

func prepareTrade(svc Service, b batcher, rec command.Record) (prepared, error) {
	var l TradeLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(TradeColumns); err != nil {
			return prepared{}, err
		}
		l = TradeLine{CraftsmanID: f["craftsmanId"], Key: f["key"], EnterTradeRequest: EnterTradeRequest{
			Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]}, OccurredAt: f["occurredAt"]}}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return prepared{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return prepared{}, servicekit.Invalid(err)
	}
	req := l.EnterTradeRequest
	req.CraftsmanID = l.CraftsmanID
	p := prepared{craftsman: l.CraftsmanID, key: l.Key,
		run: func(ctx context.Context) (command.Result, error) { return svc.EnterTrade(ctx, req) }}
	if b != nil {
		p.build = func(ctx context.Context) (command.Command, error) { return b.tradeCommand(ctx, req) }
	}
	return p, nil
}
