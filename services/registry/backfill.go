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

func prepareCraftsman(svc Service, b batcher, rec command.Record) (command.Line, error) {
	var l CraftsmanLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(CraftsmanColumns); err != nil {
			return command.Line{}, err
		}
		l = CraftsmanLine{Key: f["key"], RegisterCraftsmanRequest: RegisterCraftsmanRequest{CraftsmanID: f["craftsmanId"],
			NationalID: f["nationalId"], BirthDate: f["birthDate"], Region: f["region"], OccurredAt: f["occurredAt"]}}
		if f["name"] != "" || f["phone"] != "" || f["email"] != "" {
			l.Personal = &events.Personal{Name: f["name"], Phone: f["phone"], Email: f["email"]}
		}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, servicekit.Invalid(err)
	}
	return servicekit.ImportLine(l.CraftsmanID, l.Key, l.RegisterCraftsmanRequest, svc.RegisterCraftsman, b, batcher.registerCommand), nil
}

func prepareEmployment(svc Service, b batcher, rec command.Record) (command.Line, error) {
	var l EmploymentLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(EmploymentColumns); err != nil {
			return command.Line{}, err
		}
		l = EmploymentLine{CraftsmanID: f["craftsmanId"], Key: f["key"], EndedOn: f["endedOn"], EndReason: f["endReason"],
			StartEmploymentRequest: StartEmploymentRequest{EmploymentID: f["employmentId"], EmployerOrgID: f["employerOrgId"],
				EmployerName: f["employerName"], Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]},
				Position: f["position"], OccurredAt: f["occurredAt"]}}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, servicekit.Invalid(err)
	}
	req := l.StartEmploymentRequest
	req.CraftsmanID = l.CraftsmanID
	var end *EndEmploymentRequest
	if l.EndedOn != "" {
		end = &EndEmploymentRequest{CraftsmanID: l.CraftsmanID, EmploymentID: req.EmploymentID, Reason: l.EndReason, OccurredAt: l.EndedOn}
	} else if l.EndReason != "" {
		return command.Line{}, kit.Invalid("endReason", "needs endedOn")
	}
	line := command.Line{Shard: l.CraftsmanID, Key: l.Key}
	if b != nil {
		line.Handler = b.Handler()
		line.Build = func(ctx context.Context) (command.Command, error) { return b.employmentCommand(ctx, req, end) }
		line.Run = func(ctx context.Context) (command.Result, error) {
			c, err := b.employmentCommand(ctx, req, end)
			if err != nil {
				return command.Result{}, err
			}
			return b.Handler().Execute(ctx, c)
		}
		return line, nil
	}
	if end != nil {
		return command.Line{}, errs.E(errs.Internal, "past employments need the service implementation")
	}
	line.Run = func(ctx context.Context) (command.Result, error) { return svc.StartEmployment(ctx, req) }
	return line, nil
}

func prepareTrade(svc Service, b batcher, rec command.Record) (command.Line, error) {
	var l TradeLine
	if f := rec.Fields; f != nil {
		if err := rec.CheckColumns(TradeColumns); err != nil {
			return command.Line{}, err
		}
		l = TradeLine{CraftsmanID: f["craftsmanId"], Key: f["key"], EnterTradeRequest: EnterTradeRequest{
			Trade: events.Trade{Code: f["tradeCode"], Name: f["tradeName"]}, OccurredAt: f["occurredAt"]}}
	} else if err := command.DecodeLine(rec, &l); err != nil {
		return command.Line{}, err
	}
	if err := events.ValidID("craftsmanId", l.CraftsmanID); err != nil {
		return command.Line{}, servicekit.Invalid(err)
	}
	req := l.EnterTradeRequest
	req.CraftsmanID = l.CraftsmanID
	return servicekit.ImportLine(l.CraftsmanID, l.Key, req, svc.EnterTrade, b, batcher.tradeCommand), nil
}
