package relayer

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"
)

// Metrics are the relayer's Prometheus metrics.
type Metrics struct {
	Confirmations prometheus.Counter
	Attestations  prometheus.Counter
	Relayed       *prometheus.CounterVec // by kind: valset, batch
	Errors        *prometheus.CounterVec // by loop: signer, relay
	LastRound     *prometheus.GaugeVec   // Unix time of the last round without error, by loop
}

// NewMetrics registers the metrics with reg (nil: a private registry).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m := &Metrics{
		Confirmations: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "nro_relayer", Name: "confirmations_total",
			Help: "Valset and batch signatures sent to the chain."}),
		Attestations: prometheus.NewCounter(prometheus.CounterOpts{Namespace: "nro_relayer", Name: "attestations_total",
			Help: "Executed-batch attestations sent to the chain."}),
		Relayed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "nro_relayer", Name: "relayed_total",
			Help: "Valset updates and batches submitted to the settlement contract."}, []string{"kind"}),
		Errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "nro_relayer", Name: "round_errors_total",
			Help: "Rounds of a loop that failed (the loop carries on at the next interval)."}, []string{"loop"}),
		LastRound: prometheus.NewGaugeVec(prometheus.GaugeOpts{Namespace: "nro_relayer", Name: "last_successful_round_timestamp_seconds",
			Help: "When a loop last finished a round without error (Unix time)."}, []string{"loop"}),
	}
	reg.MustRegister(m.Confirmations, m.Attestations, m.Relayed, m.Errors, m.LastRound)
	return m
}

// Loops runs the given roles (either may be nil), each as a constant-interval loop under one errgroup,
// until ctx is cancelled. A failed round is logged and counted, and the loop tries again at the next tick:
// every round re-reads the chain and the contract, so nothing carries over from a failure.
func Loops(ctx context.Context, interval time.Duration, signer *Signer, relay *Relay, m *Metrics, log *slog.Logger) error {
	if m == nil {
		m = NewMetrics(nil)
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	g, ctx := errgroup.WithContext(ctx)
	if signer != nil {
		g.Go(func() error {
			return every(ctx, interval, func(ctx context.Context) error {
				n, a, err := signer.Round(ctx)
				m.Confirmations.Add(float64(n))
				m.Attestations.Add(float64(a))
				return err
			}, "signer", m, log)
		})
	}
	if relay != nil {
		g.Go(func() error {
			return every(ctx, interval, func(ctx context.Context) error {
				moved, err := relay.RelayValset(ctx)
				if moved {
					m.Relayed.WithLabelValues("valset").Inc()
				}
				if err != nil {
					return err
				}
				n, err := relay.RelayBatches(ctx)
				m.Relayed.WithLabelValues("batch").Add(float64(n))
				return err
			}, "relay", m, log)
		})
	}
	return g.Wait()
}

func every(ctx context.Context, interval time.Duration, round func(context.Context) error, name string, m *Metrics, log *slog.Logger) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		if err := round(ctx); err != nil {
			if errors.Is(err, context.Canceled) && ctx.Err() != nil {
				return nil
			}
			m.Errors.WithLabelValues(name).Inc()
			log.Warn("round failed; retrying at the next interval", "loop", name, "err", err)
		} else {
			m.LastRound.WithLabelValues(name).SetToCurrentTime()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
