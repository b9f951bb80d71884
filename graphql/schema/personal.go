package schema

import (
	"errors"
	"sync"

	"github.com/graphql-go/graphql"

	"github.com/craftledger/craftledger/graphql/readmodel"
	"github.com/craftledger/craftledger/pkg/keyring"
)

// personal is what the name, personalData and erased fields show of a
// craftsman's personal data (a view's or a summary's Name and Personal).
// A sealed name is opened with Deps.Personal: shown while its key exists,
// erased once the key was destroyed (forgotten, even before the erasure
// event is projected), hidden (null, "sealed") without a keyring or when
// the key is not in it. Only a name in clear or opened is ever answered.
func (b *builder) personal(name, state string) (shown, shownState string) {
	switch state {
	case readmodel.PersonalClear:
		return name, state
	case readmodel.PersonalSealed:
	default:
		return "", state
	}
	if b.d.Personal == nil {
		return "", state
	}
	sealed, ok := readmodel.ParseSealedName(name)
	if !ok {
		return "", state
	}
	p, err := b.d.Personal.Open(sealed)
	switch {
	case err == nil:
		return p.Name, state
	case errors.Is(err, keyring.ErrForgotten):
		return "", readmodel.PersonalErased
	default:
		return "", state
	}
}

// shownOnce keeps what personal answered for one node, so its name,
// personalData and erased fields open a sealed name once.
type shownOnce struct {
	once        sync.Once
	name, state string
}

// shown is b.personal(name, state), computed once per node (o is the
// node's).
func (b *builder) shown(o *shownOnce, name, state string) (string, string) {
	o.once.Do(func() { o.name, o.state = b.personal(name, state) })
	return o.name, o.state
}

// withPersonal adds to f the name, personalData and erased fields of a
// type whose values of (the node's shownOnce, its Name and Personal) say
// what personal describes; the three fields open a sealed name once.
func withPersonal[T any](b *builder, erasedDoc string, of func(T) (*shownOnce, string, string), f graphql.Fields) graphql.Fields {
	shown := func(x T) (string, string) {
		o, name, state := of(x)
		return b.shown(o, name, state)
	}
	f["name"] = fieldOf(graphql.String, nameDoc, func(x T) any {
		name, _ := shown(x)
		return nilIfEmpty(name)
	})
	f["personalData"] = fieldOf(graphql.NewNonNull(graphql.String), personalDataDoc, func(x T) any {
		_, state := shown(x)
		return state
	})
	f["erased"] = fieldOf(graphql.NewNonNull(graphql.Boolean), erasedDoc, func(x T) any {
		_, state := shown(x)
		return state == readmodel.PersonalErased
	})
	return f
}
