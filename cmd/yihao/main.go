// Command yihao is the one binary of Yihao (一号), the citizen single sign-on
// provider: serve, migrate, keys, client, citizen.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

const usage = `yihao — citizen single sign-on (OpenID Connect provider)

Usage:
  yihao serve [--dev] [--demo] [flags]     run the server
  yihao migrate [flags]                    apply database migrations
  yihao keys rotate|generate [flags]       rotate signing keys / print new secret keys
  yihao client create|list|get|delete      manage service sites (relying parties)
  yihao citizen create|get                 manage citizen accounts
  yihao operator create|list|bind-client   manage console operators (TOTP URI printed once)
  yihao audit verify|export [--citizen ID] check the audit chain / write it as JSON lines
  yihao bench [--duration 5s] [--concurrency 16] [--redis-url …] [--database-url …]
                                           load-test a server it starts, measuring its CPU

Every subcommand takes the storage flags (--database-url, --redis-url,
--data-dir, --dev, …) and the matching YIHAO_* environment variables.
Run "yihao <command> -h" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "yihao:", err)
		}
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("missing command")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest, stdout, stderr)
	case "migrate":
		return cmdMigrate(ctx, rest, stdout, stderr)
	case "keys":
		return cmdKeys(ctx, rest, stdout, stderr)
	case "client":
		return cmdClient(ctx, rest, stdout, stderr)
	case "citizen":
		return cmdCitizen(ctx, rest, stdin, stdout, stderr)
	case "operator":
		return cmdOperator(ctx, rest, stdin, stdout, stderr)
	case "audit":
		return cmdAudit(ctx, rest, stdout, stderr)
	case "bench":
		return cmdBench(ctx, rest, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

// sub splits "client create …" into its verb and arguments.
func sub(args []string, verbs ...string) (string, []string, error) {
	if len(args) == 0 {
		return "", nil, fmt.Errorf("missing subcommand: one of %v", verbs)
	}
	for _, v := range verbs {
		if args[0] == v {
			return v, args[1:], nil
		}
	}
	return "", nil, fmt.Errorf("unknown subcommand %q: want one of %v", args[0], verbs)
}
