package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/yihao-gov/yihao/identity"
	"github.com/yihao-gov/yihao/oauth"
	"github.com/yihao-gov/yihao/web"
	"github.com/yihao-gov/yihao/web/console"
)

// console is the use-case layer of the operator console and admin API.
func (a *app) console(kill identity.SessionEnder) *identity.Console {
	c := &identity.Console{Operators: a.sql, Approvals: a.sql, Citizens: a.sql, Admin: a.sql,
		Sessions: kill, Hasher: a.hasher(), Trail: a.sql, Merges: a.sql, Passkeys: a.sql}
	if al, ok := any(a.sql).(identity.ConsoleAudit); ok {
		c.Audit = al
	}
	if a.eph != nil {
		c.Limiter = a.eph
	}
	return c
}

// mountConsole adds /console and /admin/api.
func (a *app) mountConsole(mux *http.ServeMux, ui *web.UI, provider *oauth.Provider, secure bool) error {
	h, err := console.New(console.Config{UI: ui, Console: a.console(provider), State: a.eph, Clients: a.sql,
		Protocol: provider, Secure: secure, Logger: a.log})
	if err != nil {
		return err
	}
	h.Mount(mux)
	return nil
}

// noSessions is the kill path of one-shot commands, which never freeze.
type noSessions struct{}

func (noSessions) EndCitizenSessions(context.Context, string) error {
	return errors.New("not available from the command line")
}

func cmdOperator(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	verb, rest, err := sub(args, "create", "list", "bind-client")
	if err != nil {
		return err
	}
	cfg := defaultConfig()
	fs := newFlags("yihao operator "+verb, stderr)
	var username, name, region, clientID string
	var roles stringList
	var pwStdin bool
	if verb == "create" || verb == "bind-client" {
		fs.StringVar(&username, "username", "", "operator username (required)")
	}
	switch verb {
	case "create":
		fs.StringVar(&name, "name", "", "full name (required)")
		fs.Var(&roles, "role", "administrator, registrar or auditor (repeatable)")
		fs.StringVar(&region, "region", "", `GB/T 2260 prefix of the scope: "110105" county, "1101" prefecture, "11" province, "" the nation`)
		fs.BoolVar(&pwStdin, "password-stdin", false, "read the password from the first line of standard input (required)")
	case "bind-client":
		fs.StringVar(&clientID, "client-id", "", "client whose admin-scope tokens act as this operator (required)")
	}
	if err := loadConfig(fs, rest, &cfg); err != nil {
		return err
	}
	a, err := openMigrated(ctx, cfg, stderr)
	if err != nil {
		return err
	}
	defer a.Close()
	c := a.console(noSessions{})
	switch verb {
	case "list":
		ops, err := a.sql.Operators(ctx)
		if err != nil {
			return err
		}
		for _, o := range ops {
			region := o.Region
			if region == "" {
				region = "(nation)"
			}
			fmt.Fprintf(stdout, "%s\t%s\t%s\t%s\t%s\n", o.Username, o.Name, joinRoleNames(o.Roles), region, o.Status)
		}
		return nil
	case "bind-client":
		if username == "" || clientID == "" {
			return errors.New("--username and --client-id: required")
		}
		op, err := a.sql.OperatorByUsername(ctx, strings.ToLower(username))
		if errors.Is(err, identity.ErrNotFound) {
			return fmt.Errorf("--username: no operator %q", username)
		}
		if err != nil {
			return err
		}
		cl, err := a.sql.Client(ctx, clientID)
		if errors.Is(err, identity.ErrNotFound) {
			return fmt.Errorf("--client-id: no client %q", clientID)
		}
		if err != nil {
			return err
		}
		if err := a.sql.BindClientOperator(ctx, cl.ID, op.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "client %s now acts as operator %s in the admin API (tokens need scope %q)\n", cl.ID, op.Username, console.AdminScope)
		return nil
	}
	if !pwStdin {
		return errors.New("--password-stdin: required (the password is never taken from the command line)")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("--password-stdin: %w", err)
	}
	var rs []identity.Role
	for _, r := range roles {
		for _, f := range strings.FieldsFunc(r, func(c rune) bool { return c == ',' || c == ' ' }) {
			rs = append(rs, identity.Role(f))
		}
	}
	op, err := c.CreateOperator(ctx, nil, identity.NewOperatorInput{Username: username, Name: name, Roles: rs,
		Region: region, Password: strings.TrimRight(line, "\r\n")})
	if errors.Is(err, identity.ErrAlreadyExists) {
		return fmt.Errorf("--username: operator %q already exists", username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created operator %s (%s)\n", op.Username, op.ID)
	fmt.Fprintf(stdout, "TOTP enrolment (shown once; add it to the operator's authenticator app now):\n%s\n",
		op.TOTP.URI("Yihao", op.Username))
	return nil
}

func joinRoleNames(rs []identity.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}
