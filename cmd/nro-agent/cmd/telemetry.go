package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/consensus-nro/nro/agent/report"
	"github.com/consensus-nro/nro/agent/telemetry"
)

func newTelemetryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "telemetry",
		Short: "Print what the GPU telemetry reads: once, or every --interval until interrupted",
		Long: `Open NVML as the agent does and print its GPU report: the source (nvml, or fallback with the reason), and
per device UUID, model, utilisation, memory, power, temperature, ECC counts, clocks and clock event (throttle)
reasons, with the NVML return code of every field that could not be read. The config in --home is used when it
exists (nvml_library, registered_gpus); the flags override it. Logs go to stderr, the report to stdout.`,
		Example: `  nro-agent telemetry --once
  nro-agent telemetry --once -o json
  nro-agent telemetry --interval 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, _ := cmd.Flags().GetString(flagOutput)
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			once, _ := cmd.Flags().GetBool("once")
			interval, _ := cmd.Flags().GetDuration("interval")
			if !once && interval < 100*time.Millisecond {
				return fmt.Errorf("--interval %s is too short: use at least 100ms", interval)
			}
			cfg, err := loadConfig(cmd, true)
			if err != nil {
				return err
			}
			if err := applyFlags(cmd, &cfg); err != nil {
				return err
			}
			if err := cfg.Validate(false); err != nil {
				return fmt.Errorf("invalid agent config:\n%w", err)
			}
			sampler := telemetry.Open(cfg.TelemetryConfig(), cfg.NewLogger(cmd.ErrOrStderr()))
			defer func() { _ = sampler.Close() }()

			ctx := cmd.Context()
			ticker := time.NewTicker(max(interval, 100*time.Millisecond))
			defer ticker.Stop()
			for {
				set, err := sampler.Sample(ctx)
				if ctx.Err() != nil {
					return nil
				}
				if err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "NVML read failed, showing the fallback: %v\n", err)
				}
				if err := writeGPUSet(cmd.OutOrStdout(), set, output); err != nil {
					return err
				}
				if once {
					return nil
				}
				select {
				case <-ctx.Done():
					return nil
				case <-ticker.C:
				}
			}
		},
	}
	cmd.Flags().Bool("once", false, "print one report and exit")
	cmd.Flags().Duration("interval", 5*time.Second, "time between reports without --once")
	cmd.Flags().StringP(flagOutput, "o", "text", "text or json")
	addTelemetryFlags(cmd)
	return cmd
}

func writeGPUSet(w io.Writer, set report.GPUSet, output string) error {
	if output == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(set)
	}
	fmt.Fprintf(w, "source: %s\n", set.Source)
	if set.Source == report.SourceFallback {
		fmt.Fprintf(w, "  NOT MEASURED: %s\n  the devices below repeat the node's registration (model, memory); no other value is known\n", set.FallbackReason)
	} else {
		fmt.Fprintf(w, "driver: %s  NVML: %s\n", orDash(set.DriverVersion), orDash(set.NVMLVersion))
	}
	fmt.Fprintf(w, "collected: %s\n", set.CollectedAt.Format(time.RFC3339Nano))
	if len(set.Devices) == 0 {
		fmt.Fprintln(w, "no GPUs")
	}
	for _, d := range set.Devices {
		fmt.Fprintf(w, "\nGPU %d  %s  %s\n", d.Index, orDash(d.Model), orDash(d.UUID))
		if d.Error != "" {
			fmt.Fprintf(w, "  FAILED: %s\n", d.Error)
			continue
		}
		line := func(label string, parts ...string) {
			var kept []string
			for _, p := range parts {
				if p != "" {
					kept = append(kept, p)
				}
			}
			if len(kept) > 0 {
				fmt.Fprintf(w, "  %-12s %s\n", label, strings.Join(kept, "  "))
			}
		}
		line("utilisation", fmtU32(d.UtilizationGPUPct, "gpu %d%%"), fmtU32(d.UtilizationMemoryPct, "memory %d%%"))
		line("memory", memory(d))
		line("power", fmtPower(d.PowerMilliwatts))
		line("temperature", fmtU32(d.TemperatureC, "%d C"))
		line("ecc volatile", fmtU64(d.ECCCorrectedVolatile, "corrected %d"), fmtU64(d.ECCUncorrectedVolatile, "uncorrected %d"))
		line("clocks", fmtU32(d.SMClockMHz, "sm %d MHz"), fmtU32(d.MemoryClockMHz, "memory %d MHz"))
		if d.ClockEventReasons != nil {
			names := telemetry.ClockEventReasonNames(*d.ClockEventReasons)
			if len(names) == 0 {
				names = []string{"none"}
			}
			line("clock events", fmt.Sprintf("0x%x (%s)", *d.ClockEventReasons, strings.Join(names, ", ")))
		}
		if len(d.Unavailable) > 0 {
			fields := make([]string, 0, len(d.Unavailable))
			for f := range d.Unavailable {
				fields = append(fields, f)
			}
			sort.Strings(fields)
			for i, f := range fields {
				fields[i] = f + " (" + d.Unavailable[f] + ")"
			}
			line("unavailable", strings.Join(fields, ", "))
		}
	}
	return nil
}

func memory(d report.Device) string {
	switch {
	case d.MemoryUsedMiB != nil && d.MemoryTotalMiB != nil:
		return fmt.Sprintf("%d / %d MiB used", *d.MemoryUsedMiB, *d.MemoryTotalMiB)
	case d.MemoryTotalMiB != nil:
		return fmt.Sprintf("%d MiB", *d.MemoryTotalMiB)
	}
	return ""
}

func fmtU32(v *uint32, format string) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf(format, *v)
}

func fmtU64(v *uint64, format string) string {
	if v == nil {
		return ""
	}
	return fmt.Sprintf(format, *v)
}

func fmtPower(mw *uint32) string {
	if mw == nil {
		return ""
	}
	return fmt.Sprintf("%d.%03d W", *mw/1000, *mw%1000)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
