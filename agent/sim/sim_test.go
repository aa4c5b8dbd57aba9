package sim

import (
	"context"
	"math"
	"math/rand"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"
	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

const dataDir = "../../data"

func loadData(t testing.TB) *Data {
	t.Helper()
	d, err := LoadData(dataDir)
	require.NoError(t, err)
	return d
}

func TestLoadData(t *testing.T) {
	d := loadData(t)
	require.Len(t, d.Jobs, 82_247, "philly.csv rows")
	for i := 1; i < len(d.Jobs); i++ {
		require.False(t, d.Jobs[i].Arrival.Before(d.Jobs[i-1].Arrival), "jobs sorted by arrival")
	}
	require.Equal(t, time.Date(2017, 9, 4, 10, 30, 41, 0, time.UTC), d.Jobs[0].Arrival)
	// The price table's T4 instances of the three clouds (checked against cloud-gpus.csv).
	var t4 []Offer
	for _, o := range d.Offers {
		if o.Model == "T4" {
			t4 = append(t4, o)
		}
	}
	require.Contains(t, t4, Offer{Cloud: "aws", Instance: "g4dn.12xlarge", Model: "T4", GPUs: 4, MemoryMiB: 16384, PricePerGPUHour: 980_000})
	require.Contains(t, t4, Offer{Cloud: "azure", Instance: "NC4as T4 v3", Model: "T4", GPUs: 1, MemoryMiB: 16384, PricePerGPUHour: 530_000})
	require.Contains(t, t4, Offer{Cloud: "gcp", Instance: "n1-highmem-32", Model: "T4", GPUs: 4, MemoryMiB: 16384, PricePerGPUHour: 820_000})
	require.Len(t, d.Profiles, len(Models))

	_, err := LoadData(t.TempDir())
	require.ErrorContains(t, err, "philly.csv")
	_, err = FindDataDir(t.TempDir())
	require.ErrorContains(t, err, "has no philly-pollux/philly.csv")
	found, err := FindDataDir("")
	require.NoError(t, err)
	require.DirExists(t, found)
}

func TestProfileIteration(t *testing.T) {
	d := loadData(t)
	p := d.Profiles["imagenet"]
	// imagenet_placements.csv at local_bsz 57 (the median batch size measured everywhere): one row for "1",
	// and "44" is the only permutation of its multiset.
	require.Equal(t, 57, p.LocalBatch)
	step, sync := p.Iteration([]uint32{1})
	require.InDelta(t, 0.32392780780792235, step, 1e-12)
	require.InDelta(t, 0.0012021311998367309, sync, 1e-12)
	// An 8-GPU node is two testbed nodes of 4: the same as 4+4 on two nodes.
	s8, y8 := p.Iteration([]uint32{8})
	s44, y44 := p.Iteration([]uint32{4, 4})
	require.Equal(t, s44, s8)
	require.Equal(t, y44, y8)
	// Permutations of one multiset are averaged: 2+1 and 1+2 are the same placement.
	s12, _ := p.Iteration([]uint32{1, 2})
	s21, _ := p.Iteration([]uint32{2, 1})
	require.Equal(t, s12, s21)
	// More than 4 testbed nodes come from scalability.csv: 8 nodes of 2 GPUs is the (8, 16) row.
	s16, y16 := p.Iteration([]uint32{2, 2, 2, 2, 2, 2, 2, 2})
	require.InDelta(t, scalRow(t, p, 8, 16).step, s16, 1e-12)
	require.InDelta(t, scalRow(t, p, 8, 16).sync, y16, 1e-12)
	// 5 nodes use the smallest measured count above (6); 40 parts are clamped to 16 nodes.
	s5, _ := p.Iteration([]uint32{1, 1, 1, 1, 2})
	require.InDelta(t, scalRow(t, p, 6, 6).step, s5, 1e-12)
	s40, _ := p.Iteration(make40())
	require.Greater(t, s40, 0.0)

	for _, m := range Models {
		prof := d.Profiles[m]
		for g := uint32(1); g <= 64; g++ {
			best := bestStep(prof, g)
			compact, _ := prof.Iteration(compactParts(g))
			require.LessOrEqual(t, best, compact, "%s %d GPUs", m, g)
			require.Greater(t, best, 0.0)
		}
	}
}

func make40() []uint32 {
	out := make([]uint32, 40)
	for i := range out {
		out[i] = 1
	}
	return out
}

func scalRow(t *testing.T, p *Profile, nodes, gpus int) iteration {
	for _, r := range p.large {
		if r.nodes == nodes && r.gpus == gpus {
			return r.it
		}
	}
	t.Fatalf("no scalability row (%d, %d)", nodes, gpus)
	return iteration{}
}

func TestNewFleet(t *testing.T) {
	d := loadData(t)
	f, err := NewFleet(DefaultFleet(), d.Offers, types.MeasuredRegionLinks, 1)
	require.NoError(t, err)
	require.Len(t, f.Nodes(), 90)
	var total uint32
	for i, n := range f.Nodes() {
		require.Equal(t, DefaultRegions[i%len(DefaultRegions)], n.Region)
		require.Equal(t, "T4", n.Gpus[0].Model)
		require.Positive(t, n.BandwidthMbps)
		total += n.Gpus[0].Count
	}
	require.Equal(t, total, f.TotalGPUs())
	require.Equal(t, total, f.FreeGPUs())

	_, err = NewFleet(FleetConfig{Regions: []string{"aws:us-east-1", "mars:olympus-1"}, Nodes: 2}, d.Offers, types.MeasuredRegionLinks, 1)
	require.ErrorContains(t, err, "no measured RTT between")
	_, err = NewFleet(FleetConfig{Regions: []string{"aws:us-east-1"}, Nodes: 2, GPUModels: []string{"B200"}}, d.Offers, types.MeasuredRegionLinks, 1)
	require.ErrorContains(t, err, "no aws instance with GPU model B200")
}

// The simulator's fleet gives the chain's fallback allocator the same answers as the chain's store: on the
// same nodes and links, the fallback picks the same placement, ring and cost in both.
func TestFallbackSameAsChain(t *testing.T) {
	d := loadData(t)
	f, err := NewFleet(DefaultFleet(), d.Offers, types.MeasuredRegionLinks, 7)
	require.NoError(t, err)
	r := rand.New(rand.NewSource(3))
	// Some GPUs taken, so that free counts differ between groups.
	for i := range f.nodes {
		if g := f.nodes[i].Gpus[0]; g.Count > 1 && r.Intn(2) == 0 {
			require.NoError(t, f.reserve(i, 0, int64(r.Intn(int(g.Count)))))
		}
	}

	fx := keepertest.NewAllocationFixture(t)
	fx.Keeper.SetAuditKeeper(noMeasurements{})
	params := fx.Params()
	params.Regions = DefaultRegions
	_, operator := fx.Addr("operator")
	for _, n := range f.Nodes() {
		n.Operator, n.Agent = operator, operator // the registry's indexes need them; scoring does not read them
		require.NoError(t, fx.Keeper.Nodes.Set(fx.Ctx, n.Id, n))
	}
	for k, l := range f.links {
		require.NoError(t, fx.Keeper.RegionLinks.Set(fx.Ctx, collections.Join(k[0], k[1]), l))
	}
	maxPrice := sdk.NewCoin(types.DefaultDenom, sdkmath.NewInt(10_000_000))
	placed := 0
	for i := range 200 {
		spec := leasetypes.LeaseSpec{
			TotalGpus: uint32(1 + r.Intn(24)), DurationBlocks: uint64(10 + r.Intn(5000)), MaxPricePerGpuHour: maxPrice,
		}
		if r.Intn(2) == 0 {
			spec.MaxRttMs = uint32(5 + r.Intn(100))
		}
		if r.Intn(3) == 0 {
			spec.Regions = []string{DefaultRegions[r.Intn(len(DefaultRegions))], DefaultRegions[r.Intn(len(DefaultRegions))]}
			if spec.Regions[0] > spec.Regions[1] {
				spec.Regions[0], spec.Regions[1] = spec.Regions[1], spec.Regions[0]
			} else if spec.Regions[0] == spec.Regions[1] {
				spec.Regions = spec.Regions[:1]
			}
		}
		lease := leasetypes.Lease{Id: uint64(i + 1), Spec: spec, BlocksPerHour: BlocksPerHour, State: leasetypes.LEASE_STATE_PENDING}
		simC, simErr := types.Fallback(f, params, lease, nil)
		cands, err := fx.Keeper.Candidates(fx.Ctx, params, lease)
		require.NoError(t, err)
		chain := cands[len(cands)-1]
		if simErr != nil {
			require.NotEmpty(t, chain.Rejected, "lease %d: the simulator found no placement (%v), the chain did", i, simErr)
			continue
		}
		require.Empty(t, chain.Rejected, "lease %d", i)
		require.Equal(t, chain.Nodes, simC.Nodes, "lease %d", i)
		require.Equal(t, chain.RingOrder, simC.RingOrder, "lease %d", i)
		require.True(t, chain.Score.Total.Equal(simC.Score.Total), "lease %d", i)
		placed++
	}
	require.Greater(t, placed, 100)
}

// noMeasurements is an x/audit with an empty link matrix; scoring candidates needs nothing else of it.
type noMeasurements struct{ types.AuditKeeper }

func (noMeasurements) MeasuredLink(context.Context, string, string) (uint64, uint64, uint64, bool, error) {
	return 0, 0, 0, false, nil
}

// tinyData is a hand-checkable market: one T4 offer per cloud, every model with imagenet's profile.
func tinyData(t *testing.T, jobs []TraceJob, gpusPerNode uint32) *Data {
	d := loadData(t)
	prof := d.Profiles["imagenet"]
	out := &Data{Jobs: jobs, Profiles: map[string]*Profile{}}
	for _, m := range Models {
		out.Profiles[m] = prof
	}
	for _, c := range []string{"aws", "azure", "gcp"} {
		out.Offers = append(out.Offers, Offer{Cloud: c, Instance: "test", Model: "T4", GPUs: gpusPerNode, MemoryMiB: 16384, PricePerGPUHour: 1_000_000})
	}
	return out
}

func at(s int) time.Time { return time.Date(2017, 10, 1, 0, 0, s, 0, time.UTC) }

func TestTinyTraceByHand(t *testing.T) {
	// One node with one GPU; job 0 runs 0–100 s, job 1 arrives at 10 s and runs 100–150 s.
	data := tinyData(t, []TraceJob{
		{Row: 0, Arrival: at(0), Duration: 100, GPUs: 1},
		{Row: 1, Arrival: at(10), Duration: 50, GPUs: 1},
	}, 1)
	cfg := Config{Fleet: FleetConfig{Regions: []string{"aws:us-east-1"}, Nodes: 1}, Start: 0, Jobs: 2, Seed: 1}
	m, err := NewMarket(cfg, data)
	require.NoError(t, err)
	for _, p := range Baselines() {
		res, err := m.Run(p)
		require.NoError(t, err)
		require.Equal(t, 2, res.Jobs, p.Name())
		require.InDelta(t, 100, res.JobsDone[0].Finish, 1e-6, p.Name())
		require.InDelta(t, 150, res.JobsDone[1].Finish, 1e-6, p.Name())
		require.InDelta(t, (100.0+140)/2, res.MeanJCT, 1e-6)
		require.InDelta(t, 140, res.P95JCT, 1e-6)
		require.InDelta(t, 90.0/2, res.MeanQueue, 1e-6)
		require.InDelta(t, 150.0/3600, res.CostUSD, 1e-9) // 1 USD per GPU-hour for 150 GPU-seconds
		require.InDelta(t, 1, res.GPUUtil, 1e-9)
		require.InDelta(t, 150, res.Makespan, 1e-6)
		require.Zero(t, res.MultiNode)
		require.InDelta(t, 1, res.BandwidthUtil, 0) // no job synced over the network
	}
	b := m.Bound()
	require.InDelta(t, 75, b.MeanJCT, 1e-6) // 100 and 50 s, no queueing
}

// TestFragmentationByHand: two 2-GPU nodes; job A (1 GPU) runs 0–100 s, job B (1 GPU) 40–60 s. Best-fit puts
// B next to A: 0–40 s and 60–100 s one of the 3 free GPUs sits on a partly used node, 40–60 s none of the 2,
// so fragmentation is (40/3 + 0 + 40/3) / 100 = 0.2667. Placed on the empty node instead, B would strand both
// free GPUs for those 20 s: (40/3 + 20 + 40/3) / 100 = 0.4667.
func TestFragmentationByHand(t *testing.T) {
	data := tinyData(t, []TraceJob{
		{Row: 0, Arrival: at(0), Duration: 100, GPUs: 1},
		{Row: 1, Arrival: at(40), Duration: 20, GPUs: 1},
	}, 2)
	cfg := Config{Fleet: FleetConfig{Regions: []string{"aws:us-east-1"}, Nodes: 2}, Start: 0, Jobs: 2, Seed: 1}
	m, err := NewMarket(cfg, data)
	require.NoError(t, err)
	res, err := m.Run(BestFit{})
	require.NoError(t, err)
	require.Equal(t, res.JobsDone[0].Placement.Nodes[0].NodeId, res.JobsDone[1].Placement.Nodes[0].NodeId, "best-fit packs B next to A")
	require.InDelta(t, 80.0/300, res.Fragmentation, 1e-9)
	require.InDelta(t, 120.0/400, res.GPUUtil, 1e-9) // 120 busy GPU-seconds of 4 GPUs × 100 s
	require.InDelta(t, 100, res.Makespan, 1e-6)

	spread, err := m.Run(spreadPlacer{})
	require.NoError(t, err)
	require.NotEqual(t, spread.JobsDone[0].Placement.Nodes[0].NodeId, spread.JobsDone[1].Placement.Nodes[0].NodeId)
	require.InDelta(t, 140.0/300, spread.Fragmentation, 1e-9)
}

// spreadPlacer puts a 1-GPU job on the emptiest node.
type spreadPlacer struct{}

func (spreadPlacer) Name() string { return "spread" }
func (spreadPlacer) Place(d *Decision) (types.Candidate, bool) {
	best, most := -1, uint32(0)
	for i, n := range d.Fleet.Nodes() {
		if f := n.Gpus[0].Free(); f > most {
			best, most = i, f
		}
	}
	if best < 0 {
		return types.Candidate{}, false
	}
	n := d.Fleet.Nodes()[best]
	c, err := d.Fleet.Candidate(d.Job.Lease, d.Params, []Take{{Node: n.Id, Group: 0, GPUs: d.Job.Lease.Spec.TotalGpus}}, []string{n.Id})
	return c, err == nil
}

func TestCrossRegionStepTime(t *testing.T) {
	// Two 1-GPU nodes in two regions and a 2-GPU job: the ring crosses the ocean. Its step time is Pollux's
	// "11" step with the sync part scaled by in-region over transatlantic throughput, plus one extra RTT
	// above the in-region RTT per iteration.
	data := tinyData(t, []TraceJob{{Row: 0, Arrival: at(0), Duration: 1000, GPUs: 2}}, 1)
	regions := []string{"aws:us-east-1", "aws:eu-west-1"}
	m, err := NewMarket(Config{Fleet: FleetConfig{Regions: regions, Nodes: 2}, Jobs: 1, Seed: 1}, data)
	require.NoError(t, err)
	res, err := m.Run(Fallback{})
	require.NoError(t, err)
	j := res.JobsDone[0]
	require.Equal(t, 1, res.MultiNode)
	require.Equal(t, 1, res.CrossRegion)

	fleet, err := NewFleet(m.cfg.Fleet, data.Offers, types.MeasuredRegionLinks, 1)
	require.NoError(t, err)
	link, ok := fleet.link(regions[0], regions[1])
	require.True(t, ok)
	prof := data.Profiles[j.Model]
	step, sync := prof.Iteration([]uint32{1, 1})
	compact, _ := prof.Iteration([]uint32{2})
	wire := sync*float64(fleet.refBandwidth)/float64(link.BandwidthMbps) + float64(link.RttUs-fleet.selfRTT)/1e6
	require.Greater(t, link.RttUs, uint64(50_000), "transatlantic")
	iters := 1000 / compact
	require.InDelta(t, iters*(step-sync+wire), j.Finish, 1e-6)
	require.InDelta(t, sync/wire, res.BandwidthUtil, 1e-9)
	require.Less(t, res.BandwidthUtil, 0.5)
}

func TestSimulationInvariants(t *testing.T) {
	d := loadData(t)
	cfg := DefaultConfig()
	cfg.Jobs = 600
	cfg.NodeMTBFHours = 5 * 24 // many failures, to exercise preemption
	cfg.LinkDegradeMTBFHours = 24
	m, err := NewMarket(cfg, d)
	require.NoError(t, err)
	for _, p := range append(Baselines(), &overcommitChecker{Placer: Fallback{}}) {
		res, err := m.Run(p)
		require.NoError(t, err, p.Name())
		// Job conservation: every job of the slice completed or was dropped, once.
		require.Equal(t, cfg.Jobs, res.Jobs+res.Dropped, p.Name())
		seen := map[int]bool{}
		for _, j := range res.JobsDone {
			require.False(t, seen[j.ID])
			seen[j.ID] = true
			// Nothing runs faster than its best measured placement, and nothing starts before it arrives.
			require.GreaterOrEqual(t, j.Start, j.Arrival)
			require.GreaterOrEqual(t, j.Finish-j.Arrival, j.Iterations*j.BestStep*(1-1e-9), "%s job %d", p.Name(), j.ID)
			require.GreaterOrEqual(t, j.Queued, 0.0)
			require.NotNil(t, j.Placement)
			var gpus uint32
			for _, n := range j.Placement.Nodes {
				gpus += n.Gpus
			}
			require.Equal(t, j.Trace.GPUs, gpus)
		}
		require.Positive(t, res.Preemptions, p.Name())
		require.True(t, res.GPUUtil > 0 && res.GPUUtil <= 1, "%s GPU util %v", p.Name(), res.GPUUtil)
		require.True(t, res.Fragmentation >= 0 && res.Fragmentation <= 1)
		require.True(t, res.BandwidthUtil > 0 && res.BandwidthUtil <= 1)
		lo, hi := math.Inf(1), 0.0
		for _, j := range res.JobsDone {
			lo, hi = min(lo, j.Finish-j.Arrival), max(hi, j.Finish-j.Arrival)
		}
		require.True(t, res.P95JCT >= lo && res.P95JCT <= hi && res.MeanJCT >= lo && res.MeanJCT <= hi)
		require.GreaterOrEqual(t, res.MeanJCT, m.Bound().MeanJCT)
	}
}

// overcommitChecker wraps a placer and checks, at every decision, that no group holds more reservations
// than GPUs and that down nodes hold none of the new placements.
type overcommitChecker struct{ Placer }

func (o *overcommitChecker) Place(d *Decision) (types.Candidate, bool) {
	for _, n := range d.Fleet.Nodes() {
		for _, g := range n.Gpus {
			if g.Reserved > g.Count {
				panic("over-committed node " + n.Id)
			}
		}
	}
	c, ok := o.Placer.Place(d)
	if ok {
		for _, n := range c.Nodes {
			node, _ := d.Fleet.Node(n.NodeId)
			if node.Status != types.NODE_STATUS_ACTIVE || n.Gpus > node.Gpus[n.GpuGroup].Free() {
				panic("placement on a down or full node " + n.NodeId)
			}
		}
	}
	return c, ok
}

func TestDeterministic(t *testing.T) {
	d := loadData(t)
	cfg := DefaultConfig()
	cfg.Jobs = 300
	run := func(seed int64, p Placer) *Result {
		cfg.Seed = seed
		m, err := NewMarket(cfg, d)
		require.NoError(t, err)
		res, err := m.Run(p)
		require.NoError(t, err)
		return res
	}
	for _, p := range []Placer{Random{}, Fallback{}} {
		a, b := run(1, p), run(1, p)
		require.Equal(t, a.MeanJCT, b.MeanJCT, p.Name())
		require.Equal(t, a.CostUSD, b.CostUSD, p.Name())
		for i := range a.JobsDone {
			require.Equal(t, a.JobsDone[i].Finish, b.JobsDone[i].Finish)
			require.Equal(t, a.JobsDone[i].Placement.Nodes, b.JobsDone[i].Placement.Nodes)
		}
		require.NotEqual(t, a.MeanJCT, run(2, p).MeanJCT, p.Name())
	}
}

func TestMarketConfigErrors(t *testing.T) {
	d := loadData(t)
	cfg := DefaultConfig()
	cfg.Start = len(d.Jobs)
	_, err := NewMarket(cfg, d)
	require.ErrorContains(t, err, "outside the trace")
	cfg = DefaultConfig()
	cfg.Load = -1
	_, err = NewMarket(cfg, d)
	require.ErrorContains(t, err, "load -1")
	cfg = DefaultConfig()
	cfg.DegradeFactor = 2
	_, err = NewMarket(cfg, d)
	require.ErrorContains(t, err, "degrade factor")
}

func TestCandidates(t *testing.T) {
	d := loadData(t)
	cfg := DefaultConfig()
	cfg.Start, cfg.Jobs = 70_000, 500
	m, err := NewMarket(cfg, d)
	require.NoError(t, err)
	decisions := Snapshot(m, 0.3, 200, rand.New(rand.NewSource(5)))
	require.Len(t, decisions, 200)
	multi := 0
	for _, dec := range decisions {
		cands := Candidates(dec, 0)
		require.NotEmpty(t, cands)
		fb, ok := Fallback{}.Place(dec)
		require.True(t, ok)
		require.Equal(t, placementKey(fb), placementKey(cands[0]), "the chain's fallback comes first")
		seen := map[string]bool{}
		for _, c := range cands {
			k := placementKey(c)
			require.False(t, seen[k], "candidates are distinct")
			seen[k] = true
			takes := make([]Take, len(c.Nodes))
			for i, n := range c.Nodes {
				takes[i] = Take{Node: n.NodeId, Group: n.GpuGroup, GPUs: n.Gpus}
			}
			_, err := dec.Fleet.Candidate(dec.Job.Lease, dec.Params, takes, c.RingOrder)
			require.NoError(t, err, "every candidate passes the chain's checks")
		}
		require.LessOrEqual(t, len(Candidates(dec, 3)), 3)
		if len(cands) > 1 {
			multi++
		}
	}
	require.Greater(t, multi, 100, "most decisions have a choice")
}
