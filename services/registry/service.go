package registry

import (
	"context"
	"strings"
	"time"

	"github.com/craftledger/craftledger/events/career"

	"github.com/craftledger/craftledger/events"
	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/command"
	"github.com/craftledger/craftledger/pkg/errs"
	"github.com/craftledger/craftledger/pkg/eventstore"
	"github.com/craftledger/craftledger/pkg/kit"
	"github.com/craftledger/craftledger/pkg/servicekit"
)

// Service records registry facts. Every method takes the caller from ctx
// (auth claims) and the request ids (command.HTTPToContext), and answers
// where the events landed.
type Service interface {
	RegisterCraftsman(ctx context.Context, req RegisterCraftsmanRequest) (command.Result, error)
	UpdateProfile(ctx context.Context, req UpdateProfileRequest) (command.Result, error)
	EnterTrade(ctx context.Context, req EnterTradeRequest) (command.Result, error)
	StartEmployment(ctx context.Context, req StartEmploymentRequest) (command.Result, error)
	EndEmployment(ctx context.Context, req EndEmploymentRequest) (command.Result, error)
	RegisterAcademy(ctx context.Context, req RegisterAcademyRequest) (command.Result, error)
	AddCourse(ctx context.Context, req AddCourseRequest) (command.Result, error)
	RegisterIssuer(ctx context.Context, req RegisterIssuerRequest) (command.Result, error)
	AddIssuerUser(ctx context.Context, req AddIssuerUserRequest) (command.Result, error)
	ForgetCraftsman(ctx context.Context, req ForgetCraftsmanRequest) (command.Result, error)
	// Correct records an EventCorrected superseding an employment fact
	// (start or end) on a craftsman's stream (servicekit.Corrector).
	Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error)
}

// Corrected lists the event types the registry corrects, with the fields a
// replacement must keep (a correction fixes a fact; it does not move it to
// another worker, employment or employer).
func Corrected() map[string][]string {
	return events.CorrectionIdentity(events.TypeEmploymentStarted, events.TypeEmploymentEnded)
}

// ForgetCraftsmanRequest erases a craftsman's personal information (PIPL's
// right to deletion): their sealing key is destroyed; the career facts stay.
type ForgetCraftsmanRequest struct {
	CraftsmanID string `json:"-"`
	// Reason is recorded (e.g. the request's reference); required.
	Reason string `json:"reason"`
}

// RegisterCraftsmanRequest opens a worker's ledger. NationalID is the
// 18-character resident ID number; it is hashed with the deployment's key
// (events.HashNationalID) and never stored or logged in clear.
type RegisterCraftsmanRequest struct {
	CraftsmanID string           `json:"craftsmanId"`
	NationalID  string           `json:"nationalId"`
	BirthDate   string           `json:"birthDate,omitempty"`
	Region      string           `json:"region,omitempty"`
	Personal    *events.Personal `json:"personal,omitempty"`
	OccurredAt  string           `json:"occurredAt,omitempty"`
}

// UpdateProfileRequest changes the profile fields that are set.
type UpdateProfileRequest struct {
	CraftsmanID string           `json:"-"` // from the path
	NationalID  string           `json:"nationalId,omitempty"`
	BirthDate   string           `json:"birthDate,omitempty"`
	Region      string           `json:"region,omitempty"`
	Personal    *events.Personal `json:"personal,omitempty"`
	OccurredAt  string           `json:"occurredAt,omitempty"`
}

// EnterTradeRequest records that a worker works in a trade.
type EnterTradeRequest struct {
	CraftsmanID string       `json:"-"`
	Trade       events.Trade `json:"trade"`
	OccurredAt  string       `json:"occurredAt,omitempty"`
}

// StartEmploymentRequest opens an employment period; OccurredAt is its
// first day. Only the employer's issuers (or an admin) may record it.
type StartEmploymentRequest struct {
	CraftsmanID   string       `json:"-"`
	EmploymentID  string       `json:"employmentId"`
	EmployerOrgID string       `json:"employerOrgId"`
	EmployerName  string       `json:"employerName,omitempty"`
	Trade         events.Trade `json:"trade"`
	Position      string       `json:"position,omitempty"`
	OccurredAt    string       `json:"occurredAt,omitempty"`
}

// EndEmploymentRequest closes an open employment period.
type EndEmploymentRequest struct {
	CraftsmanID  string `json:"-"`
	EmploymentID string `json:"-"`
	Reason       string `json:"reason,omitempty"`
	OccurredAt   string `json:"occurredAt,omitempty"`
}

// RegisterAcademyRequest opens an academy's stream.
type RegisterAcademyRequest struct {
	AcademyID   string `json:"academyId"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	Region      string `json:"region"`
	ParentOrgID string `json:"parentOrgId,omitempty"`
	OccurredAt  string `json:"occurredAt,omitempty"`
}

// AddCourseRequest adds a course to an academy's catalogue.
type AddCourseRequest struct {
	AcademyID   string        `json:"-"`
	CourseID    string        `json:"courseId"`
	Title       string        `json:"title"`
	Trade       events.Trade  `json:"trade"`
	Modules     []string      `json:"modules,omitempty"`
	Hours       float64       `json:"hours"`
	Mode        string        `json:"mode"`
	TargetLevel *events.Level `json:"targetLevel,omitempty"`
	OccurredAt  string        `json:"occurredAt,omitempty"`
}

// RegisterIssuerRequest registers an organisation that records facts.
type RegisterIssuerRequest struct {
	IssuerID   string `json:"issuerId"`
	Name       string `json:"name"`
	Kind       string `json:"kind"`
	Region     string `json:"region,omitempty"`
	OccurredAt string `json:"occurredAt,omitempty"`
}

// AddIssuerUserRequest grants a user a role in an issuer organisation.
type AddIssuerUserRequest struct {
	IssuerID    string `json:"-"`
	UserID      string `json:"userId"`
	Role        string `json:"role"`
	DisplayName string `json:"displayName,omitempty"`
	OccurredAt  string `json:"occurredAt,omitempty"`
}

// PlatformOrg is the issuer organisation recorded for admins acting
// without an organisation of their own.
const PlatformOrg = servicekit.PlatformOrg

// Options configure the service.
type Options struct {
	// NationalIDKey is the HMAC key national ID numbers are hashed under
	// (at least 32 bytes). Required.
	NationalIDKey []byte
	// MaxRetries bounds the conflict-retry loop (0 = command's default).
	MaxRetries int
	// Keyring, when set, seals personal information (events.SealedPersonal)
	// under a per-craftsman key instead of storing it in clear.
	Keyring Keyring
}

type service struct {
	h         *command.Handler
	corrector servicekit.Corrector
	clock     func() time.Time
	idKey     []byte
	keyring   Keyring
}

// New returns the registry service over store. clock is the only source of
// "now" (occurredAt defaults, future checks).
func New(store eventstore.Store, clock func() time.Time, opts Options) (Service, error) {
	if clock == nil {
		return nil, errs.E(errs.InvalidArgument, "registry: a clock is required")
	}
	if len(opts.NationalIDKey) < 32 {
		return nil, errs.E(errs.InvalidArgument, "registry: national ID key must be at least 32 bytes, got %d", len(opts.NationalIDKey))
	}
	h := command.New(store, command.Options{Clock: clock, Seal: servicekit.Seal, MaxRetries: opts.MaxRetries})
	s := &service{h: h, clock: clock, idKey: append([]byte(nil), opts.NationalIDKey...), keyring: opts.Keyring,
		corrector: servicekit.Corrector{Handler: h, Registry: events.NewRegistry(), Owned: Corrected(), PlatformOrg: PlatformOrg}}
	s.corrector.Follow = s.employmentStaysValid
	return s, nil
}

// seal replaces clear personal data by its sealed form when a keyring is
// configured (after validation: an invalid request creates no key).
func (s *service) seal(craftsmanID string, clear **events.Personal, sealed **events.SealedPersonal) error {
	if s.keyring == nil || *clear == nil {
		return nil
	}
	sp, err := s.keyring.Seal(craftsmanID, **clear)
	if err != nil {
		return err
	}
	*clear, *sealed = nil, sp
	return nil
}

func admin(ctx context.Context) (command.Meta, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return meta, err
	}
	return meta, c.RequireRole(auth.RoleAdmin)
}

func one(p events.Payload, at time.Time) []command.Event {
	return []command.Event{{Type: p.EventType(), Data: p, OccurredAt: at}}
}

func (s *service) hashID(field, id string) (string, error) {
	id = strings.ToUpper(strings.TrimSpace(id))
	if err := ValidNationalID(id); err != nil {
		return "", kit.FieldErr(field, err)
	}
	return events.HashNationalID(s.idKey, id), nil
}

// ValidNationalID checks an 18-character resident ID number (GB 11643):
// 17 digits and an ISO 7064 MOD 11-2 check character (0-9 or X). The error
// never repeats the number.
func ValidNationalID(id string) error {
	if len(id) != 18 {
		return errs.E(errs.InvalidArgument, "must be an 18-character resident ID number")
	}
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		c := id[i]
		if c < '0' || c > '9' {
			return errs.E(errs.InvalidArgument, "must be 17 digits and a check character")
		}
		sum += int(c-'0') * weights[i]
	}
	if id[17] != "10X98765432"[sum%11] {
		return errs.E(errs.InvalidArgument, "check character does not match")
	}
	return nil
}

func (s *service) RegisterCraftsman(ctx context.Context, req RegisterCraftsmanRequest) (command.Result, error) {
	c, err := s.registerCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// registerCommand validates and authorizes a registration and returns its
// command, not yet run (back-fill batches these).
func (s *service) registerCommand(ctx context.Context, req RegisterCraftsmanRequest) (command.Command, error) {
	meta, _, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	if req.NationalID == "" {
		return command.Command{}, kit.Invalid("nationalId", "is required")
	}
	hash, err := s.hashID("nationalId", req.NationalID)
	if err != nil {
		return command.Command{}, err
	}
	p := events.CraftsmanRegistered{CraftsmanID: req.CraftsmanID, NationalIDHash: hash, BirthDate: req.BirthDate,
		Region: req.Region, Personal: req.Personal}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	// Refuse an existing craftsman before claiming the number, so that a
	// refused registration leaves no reservation behind (but in a race).
	// A keyed retry claims nothing either: its key already wrote here, so
	// the command replays the first result (whose registration claimed the
	// number) or refuses another request under the same key.
	if h, err := command.Load(ctx, s.h.Store(), events.CraftsmanStream(req.CraftsmanID)); err != nil {
		return command.Command{}, err
	} else if h.Exists && !keyedByCaller(h, meta) {
		return command.Command{}, errs.E(errs.Conflict, "craftsman %s is already registered", req.CraftsmanID)
	} else if !h.Exists {
		if err := s.reserve(ctx, meta, hash, req.CraftsmanID); err != nil {
			return command.Command{}, err
		}
	}
	return command.Command{
		Name: "register craftsman", Stream: events.CraftsmanStream(req.CraftsmanID), Meta: meta, RetryOnConflict: true, ExpectNew: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			if h.Exists {
				return nil, errs.E(errs.Conflict, "craftsman %s is already registered", req.CraftsmanID)
			}
			// Sealed only once the registration is decided: a refused one
			// creates no key.
			p := p
			if err := s.seal(req.CraftsmanID, &p.Personal, &p.SealedPersonal); err != nil {
				return nil, err
			}
			return one(p, at), nil
		},
	}, nil
}

func (s *service) UpdateProfile(ctx context.Context, req UpdateProfileRequest) (command.Result, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Result{}, err
	}
	p := events.CraftsmanProfileChanged{CraftsmanID: req.CraftsmanID, BirthDate: req.BirthDate, Region: req.Region, Personal: req.Personal}
	if req.NationalID != "" {
		if p.NationalIDHash, err = s.hashID("nationalId", req.NationalID); err != nil {
			return command.Result{}, err
		}
	}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	allowed := func(st craftsman) error {
		if err := st.requireProfileOwner(c, req.CraftsmanID); err != nil {
			return err
		}
		if st.erased && p.Personal != nil {
			return kit.FieldErr("personal", errs.E(errs.FailedPrecondition, "craftsman %s was forgotten: personal data is not recorded again", req.CraftsmanID))
		}
		return nil
	}
	cmd, err := s.craftsmanCommand("update profile", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if err := allowed(st); err != nil {
			return nil, err
		}
		// Sealed inside the decision, after the checks: a refused change
		// creates no key, and a forgotten craftsman's key is never recreated.
		p := p
		if err := s.seal(req.CraftsmanID, &p.Personal, &p.SealedPersonal); err != nil {
			return nil, err
		}
		return one(p, at), nil
	})
	if err != nil {
		return command.Result{}, err
	}
	if p.NationalIDHash != "" {
		// A new number is claimed only for a change that would be made:
		// the craftsman is read first (an unknown craftsman, a caller who
		// may not change the profile, or a retry of a key already used here
		// claims nothing), so that a refused change leaves no reservation
		// behind (but in a race, as for registrations).
		h, err := s.h.Latest(ctx, cmd.Stream) // as fresh as Load, and cached for the Execute below
		if err != nil {
			return command.Result{}, err
		}
		if !keyedByCaller(h, meta) {
			st, err := foldCraftsman(h)
			if err != nil {
				return command.Result{}, err
			}
			if !st.registered {
				return command.Result{}, errs.E(errs.NotFound, "craftsman %s is not registered", req.CraftsmanID)
			}
			if err := allowed(st); err != nil {
				return command.Result{}, err
			}
			if err := s.reserve(ctx, meta, p.NationalIDHash, req.CraftsmanID); err != nil {
				return command.Result{}, err
			}
		}
	}
	return s.h.Execute(ctx, cmd)
}

func (s *service) EnterTrade(ctx context.Context, req EnterTradeRequest) (command.Result, error) {
	c, err := s.tradeCommand(ctx, req)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// tradeCommand validates a trade entered and returns its command, not yet
// run; the caller's right to write the craftsman's profile and whether the
// trade is already held are decided on the stream.
func (s *service) tradeCommand(ctx context.Context, req EnterTradeRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	p := events.TradeEntered{CraftsmanID: req.CraftsmanID, Trade: req.Trade}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	return s.craftsmanCommand("enter trade", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if err := st.requireTradeWriter(c, req.CraftsmanID); err != nil {
			return nil, err
		}
		if st.trades[req.Trade.Code] {
			return nil, nil // already recorded: nothing to do
		}
		return one(p, at), nil
	})
}

func (s *service) StartEmployment(ctx context.Context, req StartEmploymentRequest) (command.Result, error) {
	c, err := s.employmentCommand(ctx, req, nil)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// employmentCommand validates and authorizes an employment period — its
// start and, for a back-filled period already over, its end — and returns
// its command, not yet run.
func (s *service) employmentCommand(ctx context.Context, req StartEmploymentRequest, end *EndEmploymentRequest) (command.Command, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Command{}, err
	}
	p := events.EmploymentStarted{CraftsmanID: req.CraftsmanID, EmploymentID: req.EmploymentID, EmployerOrgID: req.EmployerOrgID,
		EmployerName: req.EmployerName, Trade: req.Trade, Position: req.Position}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Command{}, err
	}
	evs := one(p, at)
	if end != nil {
		pe := events.EmploymentEnded{CraftsmanID: req.CraftsmanID, EmploymentID: req.EmploymentID, Reason: end.Reason}
		endAt, err := servicekit.Check(pe, end.OccurredAt, s.clock())
		if err != nil {
			return command.Command{}, kit.FieldErr("endedOn", err)
		}
		if at.IsZero() || endAt.IsZero() || career.BeforeDay(endAt, at) {
			return command.Command{}, kit.Invalid("endedOn", "a past employment needs a start and an end on or after it")
		}
		evs = append(evs, one(pe, endAt)...)
	}
	if err := auth.RequireWriteFor(c, req.EmployerOrgID); err != nil {
		return command.Command{}, err
	}
	return s.craftsmanCommand("start employment", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if _, ok := st.employments[req.EmploymentID]; ok {
			return nil, errs.E(errs.Conflict, "employment %s of craftsman %s already exists", req.EmploymentID, req.CraftsmanID)
		}
		return evs, nil
	})
}

func (s *service) EndEmployment(ctx context.Context, req EndEmploymentRequest) (command.Result, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Result{}, err
	}
	p := events.EmploymentEnded{CraftsmanID: req.CraftsmanID, EmploymentID: req.EmploymentID, Reason: req.Reason}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	return s.onCraftsman(ctx, "end employment", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		e, ok := st.employments[req.EmploymentID]
		if !ok {
			return nil, errs.E(errs.NotFound, "employment %s of craftsman %s", req.EmploymentID, req.CraftsmanID)
		}
		if err := auth.RequireWriteFor(c, e.employer); err != nil {
			return nil, err
		}
		if e.ended {
			return nil, errs.E(errs.FailedPrecondition, "employment %s of craftsman %s has already ended", req.EmploymentID, req.CraftsmanID)
		}
		if !at.IsZero() && career.BeforeDay(at, e.started) {
			return nil, kit.Invalid("occurredAt", "employment cannot end before it started (%s)", career.CivilDay(e.started))
		}
		return one(p, at), nil
	})
}

func (s *service) RegisterAcademy(ctx context.Context, req RegisterAcademyRequest) (command.Result, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Result{}, err
	}
	p := events.AcademyRegistered{AcademyID: req.AcademyID, Name: req.Name, Kind: req.Kind, Region: req.Region, ParentOrgID: req.ParentOrgID}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	// An academy is registered by an admin, or by an issuer of the
	// organisation that is the academy.
	if err := auth.RequireWriteFor(c, req.AcademyID); err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, command.Command{
		Name: "register academy", Stream: events.AcademyStream(req.AcademyID), Meta: meta, RetryOnConflict: true, ExpectNew: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			if h.Exists {
				return nil, errs.E(errs.Conflict, "academy %s is already registered", req.AcademyID)
			}
			return one(p, at), nil
		},
	})
}

func (s *service) AddCourse(ctx context.Context, req AddCourseRequest) (command.Result, error) {
	meta, c, err := servicekit.Writer(ctx)
	if err != nil {
		return command.Result{}, err
	}
	p := events.CourseAdded{AcademyID: req.AcademyID, CourseID: req.CourseID, Title: req.Title, Trade: req.Trade,
		Modules: req.Modules, Hours: req.Hours, Mode: req.Mode, TargetLevel: req.TargetLevel}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	if err := auth.RequireWriteFor(c, req.AcademyID); err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, command.Command{
		Name: "add course", Stream: events.AcademyStream(req.AcademyID), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			st, err := foldAcademy(h)
			if err != nil {
				return nil, err
			}
			if !st.registered {
				return nil, errs.E(errs.NotFound, "academy %s is not registered", req.AcademyID)
			}
			if st.courses[req.CourseID] {
				return nil, errs.E(errs.Conflict, "course %s of academy %s already exists", req.CourseID, req.AcademyID)
			}
			return one(p, at), nil
		},
	})
}

func (s *service) RegisterIssuer(ctx context.Context, req RegisterIssuerRequest) (command.Result, error) {
	meta, err := admin(ctx)
	if err != nil {
		return command.Result{}, err
	}
	p := events.IssuerRegistered{IssuerID: req.IssuerID, Name: req.Name, Kind: req.Kind, Region: req.Region}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, command.Command{
		Name: "register issuer", Stream: events.IssuerStream(req.IssuerID), Meta: meta, RetryOnConflict: true, ExpectNew: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			if h.Exists {
				return nil, errs.E(errs.Conflict, "issuer %s is already registered", req.IssuerID)
			}
			return one(p, at), nil
		},
	})
}

func (s *service) AddIssuerUser(ctx context.Context, req AddIssuerUserRequest) (command.Result, error) {
	meta, err := admin(ctx)
	if err != nil {
		return command.Result{}, err
	}
	p := events.IssuerUserAdded{IssuerID: req.IssuerID, UserID: req.UserID, Role: req.Role, DisplayName: req.DisplayName}
	at, err := servicekit.Check(p, req.OccurredAt, s.clock())
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, command.Command{
		Name: "add issuer user", Stream: events.IssuerStream(req.IssuerID), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			st, err := foldIssuer(h)
			if err != nil {
				return nil, err
			}
			if !st.registered {
				return nil, errs.E(errs.NotFound, "issuer %s is not registered", req.IssuerID)
			}
			if role, ok := st.users[req.UserID]; ok {
				if role == req.Role {
					return nil, nil // already granted: nothing to do
				}
				return nil, errs.E(errs.Conflict, "user %s of issuer %s already has role %s", req.UserID, req.IssuerID, role)
			}
			return one(p, at), nil
		},
	})
}

// onCraftsman runs a command on a registered craftsman's stream.
func (s *service) onCraftsman(ctx context.Context, name, id string, meta command.Meta, decide func(craftsman) ([]command.Event, error)) (command.Result, error) {
	c, err := s.craftsmanCommand(name, id, meta, decide)
	if err != nil {
		return command.Result{}, err
	}
	return s.h.Execute(ctx, c)
}

// craftsmanCommand is the command of onCraftsman, not yet run.
func (s *service) craftsmanCommand(name, id string, meta command.Meta, decide func(craftsman) ([]command.Event, error)) (command.Command, error) {
	if err := events.ValidID("craftsmanId", id); err != nil {
		return command.Command{}, servicekit.Invalid(err)
	}
	return command.Command{
		Name: name, Stream: events.CraftsmanStream(id), Meta: meta, RetryOnConflict: true,
		Decide: func(_ context.Context, h command.History) ([]command.Event, error) {
			st, err := foldCraftsman(h)
			if err != nil {
				return nil, err
			}
			if !st.registered {
				return nil, errs.E(errs.NotFound, "craftsman %s is not registered", id)
			}
			return decide(st)
		},
	}, nil
}

// DevNationalIDKey is the public development key for national ID hashes
// (`--dev`, tests, demo data). Never use it in production.
const DevNationalIDKey = "craftledger-development-national-id-key"

// batcher is implemented by the service itself (not by its middlewares):
// back-fill builds line commands with it and appends runs of one
// craftsman's lines together.
type batcher interface {
	registerCommand(ctx context.Context, req RegisterCraftsmanRequest) (command.Command, error)
	employmentCommand(ctx context.Context, req StartEmploymentRequest, end *EndEmploymentRequest) (command.Command, error)
	tradeCommand(ctx context.Context, req EnterTradeRequest) (command.Command, error)
	Handler() *command.Handler
}

func (s *service) Handler() *command.Handler { return s.h }

// keyedByCaller reports whether the caller's idempotency key already wrote
// to h (a keyed command already done: its replay answers, not a refusal):
// the key's first event id, written by the caller's organisation, or the
// id scoped to it (command.ScopedEventID).
func keyedByCaller(h command.History, meta command.Meta) bool {
	if meta.IdempotencyKey == "" {
		return false
	}
	first, scoped := command.EventID(h.Stream, meta.IdempotencyKey, 0), command.ScopedEventID(h.Stream, meta.Issuer, meta.IdempotencyKey, 0)
	for _, e := range h.Events {
		switch e.ID {
		case scoped:
			return true
		case first:
			if m, err := command.DecodeMetadata(e.Metadata); err == nil && m.IssuerOrgID == meta.Issuer {
				return true
			}
		}
	}
	return false
}

func (s *service) ForgetCraftsman(ctx context.Context, req ForgetCraftsmanRequest) (command.Result, error) {
	meta, err := admin(ctx)
	if err != nil {
		return command.Result{}, err
	}
	if req.Reason == "" {
		return command.Result{}, kit.Invalid("reason", "is required")
	}
	if s.keyring == nil {
		return command.Result{}, errs.E(errs.FailedPrecondition, "this registry stores personal data in clear (no keyring): it cannot be erased from the log")
	}
	res, err := s.onCraftsman(ctx, "forget craftsman", req.CraftsmanID, meta, func(st craftsman) ([]command.Event, error) {
		if st.clearPersonal {
			return nil, errs.E(errs.FailedPrecondition, "craftsman %s has personal data recorded in clear, which cannot be erased from the log", req.CraftsmanID)
		}
		if st.erased {
			return nil, nil // already forgotten; the key is destroyed again below
		}
		return one(events.PersonalDataErased(req), time.Time{}), nil
	})
	if err != nil {
		return res, err
	}
	// The fact is recorded first, then the key destroyed; a retry (the
	// event then replays or is a no-op) destroys it again, so the two end up
	// consistent.
	if err := s.keyring.Forget(req.CraftsmanID); err != nil {
		return command.Result{}, err
	}
	return res, nil
}

// Correct implements Service: only the organisation that recorded the
// original fact (or an admin) may correct it.
func (s *service) Correct(ctx context.Context, req servicekit.CorrectionRequest) (command.Result, error) {
	return s.corrector.Correct(ctx, req)
}
