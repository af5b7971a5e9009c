// Command composeload loads a compose file as `docker compose` does, with the Compose Spec's
// reference loader (schema, interpolation, merge, consistency of depends_on and the like), and
// prints the resolved project as JSON, or the loader's error and exit status 1.
//
// Usage: composeload COMPOSE_FILE ENV_FILE
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: composeload COMPOSE_FILE ENV_FILE")
		os.Exit(2)
	}
	project, err := load(os.Args[1], os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(out)
}

// load reads the compose file with the variables of the environment and of one env file,
// in the order docker compose reads them.
func load(file, envFile string) (*types.Project, error) {
	options, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithWorkingDirectory(filepath.Dir(file)),
		cli.WithOsEnv,
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		// COMPOSE_PROFILES from the environment or the env file, as docker compose reads it
		cli.WithDefaultProfiles(),
	)
	if err != nil {
		return nil, err
	}
	return options.LoadProject(context.Background())
}
