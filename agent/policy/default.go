package policy

import (
	_ "embed"
	"sync"
)

// defaultJSON is the committed default policy, trained by `nro-agent train` with DefaultTrainConfig
// (see docs/benchmarks.md, "Placement policy", for the command and its evaluation).
//
//go:embed default_policy.json
var defaultJSON []byte

var (
	defaultOnce sync.Once
	defaultNet  *Network
	defaultErr  error
)

// Default returns the committed default policy.
func Default() (*Network, error) {
	defaultOnce.Do(func() { defaultNet, defaultErr = Parse(defaultJSON) })
	if defaultErr != nil {
		return nil, defaultErr
	}
	return clone(defaultNet), nil
}
