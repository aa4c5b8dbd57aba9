package policy

import (
	"math/rand"
	"testing"

	"github.com/consensus-nro/nro/agent/sim"
)

// BenchmarkDecision measures one placement decision of the policy over a fleet of 1,000 nodes (about 2,000
// T4 GPUs in 9 regions, a fifth of the GPUs taken): building the candidate placements (the chain's fallback,
// three heuristics, one fill per region), their features, and the network's scores. Target: ≤ 1 ms.
func BenchmarkDecision(b *testing.B) {
	data, err := sim.LoadData("../../data")
	if err != nil {
		b.Fatal(err)
	}
	net, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	cfg := sim.DefaultConfig()
	cfg.Fleet.Nodes = 1000
	cfg.Start, cfg.Jobs = 70_000, 2_000
	m, err := sim.NewMarket(cfg, data)
	if err != nil {
		b.Fatal(err)
	}
	decisions := sim.Snapshot(m, 0.2, 32, rand.New(rand.NewSource(1)))
	p := &Placer{Net: net, Greedy: true}
	b.ReportMetric(float64(decisions[0].Fleet.TotalGPUs()), "fleet_gpus")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := decisions[i%len(decisions)]
		if _, ok := p.Place(d); !ok {
			b.Fatalf("no placement for a %d-GPU lease", d.Job.Lease.Spec.TotalGpus)
		}
	}
}
