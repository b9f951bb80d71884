package ctl

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/craftledger/craftledger/pkg/auth"
	"github.com/craftledger/craftledger/pkg/errs"
)

// Token is `ledgerctl token`: mint development tokens, one per role (the
// demo identities) or one with the claims given.
func Token() Command {
	var roles, subject, org, craftsman, keyFile string
	var ttl time.Duration
	return Command{
		Name:    "token",
		Summary: "mint development bearer tokens for each role (or one with given claims)",
		Usage:   "[--role worker,hr,...] [--subject S --org ORG --craftsman ID] [--ttl 24h] [--jwt-key-file F]",
		Flags: func(fs *flag.FlagSet) {
			fs.StringVar(&roles, "role", "", "comma-separated roles to mint (default: every role, with the demo identities)")
			fs.StringVar(&subject, "subject", "", "subject (user id) of the token; needs a single --role")
			fs.StringVar(&org, "org", "", "organisation the token acts for (hr, issuer); needs a single --role")
			fs.StringVar(&craftsman, "craftsman", "", "craftsman a worker token speaks for; needs a single --role")
			fs.DurationVar(&ttl, "ttl", 24*time.Hour, "validity")
			fs.StringVar(&keyFile, "jwt-key-file", os.Getenv("CRAFTLEDGER_JWT_KEY_FILE"), "file holding the signing key (else $"+auth.DevKeyEnv+", else the public development key)")
		},
		Run: func(ctx context.Context, env *Env, args []string) error {
			if len(args) > 0 {
				return errs.E(errs.InvalidArgument, "unexpected arguments %v", args)
			}
			key := auth.DevKey()
			if keyFile != "" || os.Getenv(auth.DevKeyEnv) != "" {
				k, err := auth.LoadKey(keyFile, auth.DevKeyEnv)
				if err != nil {
					return err
				}
				key = k
			}
			claims, err := tokenClaims(roles, subject, org, craftsman)
			if err != nil {
				return err
			}
			toks, err := auth.DevTokens(key, ttl, claims)
			if err != nil {
				return err
			}
			if env.JSON {
				type out struct {
					Role        auth.Role `json:"role"`
					Subject     string    `json:"subject"`
					OrgID       string    `json:"orgId,omitempty"`
					CraftsmanID string    `json:"craftsmanId,omitempty"`
					ExpiresAt   time.Time `json:"expiresAt"`
					Token       string    `json:"token"`
				}
				var list []out
				for _, t := range toks {
					list = append(list, out{t.Claims.Role, t.Claims.Subject, t.Claims.OrgID, t.Claims.CraftsmanID, t.Claims.ExpiresAt.UTC(), t.Token})
				}
				return env.PrintJSON(list)
			}
			if len(toks) == 1 {
				fmt.Fprintln(env.Stdout, toks[0].Token)
				return nil
			}
			for _, t := range toks {
				fmt.Fprintf(env.Stdout, "%-8s %s\n", t.Claims.Role, t.Token)
			}
			return nil
		},
	}
}

func tokenClaims(roles, subject, org, craftsman string) ([]auth.Claims, error) {
	dev := map[auth.Role]auth.Claims{}
	for _, c := range auth.DevClaims() {
		dev[c.Role] = c
	}
	var list []auth.Role
	if roles == "" {
		list = auth.Roles()
	} else {
		for _, name := range strings.Split(roles, ",") {
			r, err := auth.ParseRole(strings.TrimSpace(name))
			if err != nil {
				return nil, err
			}
			list = append(list, r)
		}
	}
	custom := subject != "" || org != "" || craftsman != ""
	if custom && len(list) != 1 {
		return nil, errs.E(errs.InvalidArgument, "--subject, --org and --craftsman need exactly one --role")
	}
	var out []auth.Claims
	for _, r := range list {
		c := dev[r]
		if subject != "" {
			c.Subject = subject
		}
		if org != "" {
			c.OrgID = org
		}
		if craftsman != "" {
			c.CraftsmanID = craftsman
		}
		if err := c.Validate(); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
