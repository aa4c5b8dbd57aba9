//go:build !(cgo && linux)

package telemetry

import (
	"fmt"
	"runtime"
)

// openNVML reports why this build cannot read NVML: go-nvml needs cgo (it loads libnvidia-ml with dlopen) and
// the driver's Linux library.
func openNVML(string) (gpuSource, error) {
	if runtime.GOOS != "linux" {
		return nil, fmt.Errorf("%w: NVML telemetry is supported on linux only, this agent runs on %s", ErrNVMLUnavailable, runtime.GOOS)
	}
	return nil, fmt.Errorf("%w: this nro-agent was built without cgo (CGO_ENABLED=0); rebuild it with CGO_ENABLED=1 to read NVML", ErrNVMLUnavailable)
}
