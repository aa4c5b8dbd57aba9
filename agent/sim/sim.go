// Package sim is Consensus-NRO's multi-cloud GPU market simulator, driven only by real data: job arrivals,
// durations and GPU counts from the Microsoft Philly trace; per-placement step and gradient-sync times from
// the Pollux profiles (on T4 GPUs); inter-region RTT and throughput from the Skyplane grids (through the
// chain's region link table, generated from them); prices from the FSDL GPU price table. Jobs are placed
// through the interfaces the chain uses — a lease spec, the capacity index, a placement of (node, group,
// GPUs) and a ring order, checked and scored by x/allocation's own code — so the chain's fallback allocator
// runs in it unchanged. The simulation is deterministic for a seed.
//
// See agent/README.md ("Simulator") for the model and its limits.
package sim

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand"
	"slices"
	"time"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Config is one simulation: a fleet, a slice of the trace, a load and fault rates.
type Config struct {
	Fleet FleetConfig
	// Start is the index, in arrival order, of the slice's first trace job; Jobs is the slice's length.
	Start, Jobs int
	// MaxJobGPUs drops jobs larger than this (the trace has 16 jobs above 32 GPUs); 0 keeps all that fit the
	// fleet. Jobs the fleet can never hold are always dropped, and counted.
	MaxJobGPUs uint32
	// Load compresses or stretches the slice's arrivals so that the GPU-time it offers (at each job's
	// fastest measured placement) over its arrival span equals Load × the fleet's GPUs; 0 keeps the trace's
	// own arrival times.
	Load float64
	// MaxRttMs, when not 0, is every lease's max_rtt_ms.
	MaxRttMs uint32
	// NodeMTBFHours is each node's mean time between failures (exponential); 0: nodes never fail. A failed
	// node is down for RepairHours; the jobs on it are preempted and queued again with the work they had
	// done kept (they checkpoint).
	NodeMTBFHours, RepairHours float64
	// LinkDegradeMTBFHours is each region's mean time between degradations of its links to other regions;
	// while degraded (for DegradeHours) their throughput is multiplied by DegradeFactor. 0: links never
	// degrade.
	LinkDegradeMTBFHours, DegradeHours, DegradeFactor float64
	// Seed drives the fleet's instance types, the jobs' models and the fault schedules; placers that draw
	// random numbers get their own stream from it.
	Seed int64
}

// DefaultConfig is a high-load slice of 2,000 jobs on the default fleet.
func DefaultConfig() Config {
	return Config{
		Fleet: DefaultFleet(), Start: 20_000, Jobs: 2_000, MaxJobGPUs: 64, Load: 1.2,
		NodeMTBFHours: 30 * 24, RepairHours: 2, LinkDegradeMTBFHours: 7 * 24, DegradeHours: 6, DegradeFactor: 0.25,
		Seed: 1,
	}
}

// BlocksPerHour is the chain's block rate the leases are priced at (6 s blocks).
const BlocksPerHour = 600

// Job is one trace job in the simulation.
type Job struct {
	ID    int
	Trace TraceJob
	// Model is the Pollux model the job trains (drawn with the seed; the trace does not say).
	Model string
	// Arrival is seconds after the slice's first arrival (after load scaling).
	Arrival float64
	// Iterations is the job's work: its trace duration over the step time of its most compact placement.
	Iterations float64
	// BestStep is the fastest step time measured for any placement of its GPUs (the offline bound's).
	BestStep float64
	// Lease is the lease the job is submitted as.
	Lease leasetypes.Lease

	// Start and Finish are seconds (Finish < 0 until done); Queued is the total time spent waiting.
	Start, Finish, Queued float64
	Preemptions           int
	Placement             *types.Candidate
	remaining             float64 // iterations left
	step, sync, wire      float64 // current seconds per iteration, its testbed sync part and actual sync part
	since                 float64 // when remaining was last brought up to date
	queuedAt              float64
	version               int // invalidates stale finish events
	syncRef, syncSpent    float64
	costMicroUSD          float64
}

// Placer decides where a job runs. Place returns a placement that Fleet.Candidate accepts, or false to
// leave the job queued.
type Placer interface {
	Name() string
	Place(d *Decision) (types.Candidate, bool)
}

// Decision is what a placer sees: the job and its lease, the fleet as it is now, the chain's parameters,
// and how many jobs wait and run. A placer may leave a job waiting only while another job runs (something
// will free GPUs); otherwise it could wait forever.
type Decision struct {
	Job    *Job
	Fleet  *Fleet
	Params types.Params
	Now    float64
	Rand   *rand.Rand
	// Queued counts the jobs waiting (this one included), Running those running.
	Queued, Running int
}

// Result is a simulation's metrics.
type Result struct {
	Placer string
	// Jobs completed; Dropped were too large for the fleet or MaxJobGPUs.
	Jobs, Dropped int
	// Mean and 95th percentile job completion time (arrival to finish) and mean queueing delay, in seconds.
	MeanJCT, P95JCT, MeanQueue float64
	// BandwidthUtil is, over jobs that span nodes, the bytes their gradient syncs moved per second of sync
	// time over what the in-region network moves (the rate Pollux's measurements had): 1 when every
	// multi-node job syncs at in-region speed.
	BandwidthUtil float64
	// CostUSD is what the jobs paid: GPUs × price × run time.
	CostUSD float64
	// GPUUtil is the busy GPU-time over the fleet's GPU-time from the first arrival to the last finish.
	GPUUtil float64
	// Fragmentation is the time-averaged share of free GPUs that sit on partly used nodes.
	Fragmentation float64
	// Makespan is seconds from the first arrival to the last finish.
	Makespan float64
	// MultiNode counts jobs placed on more than one node, CrossRegion those whose ring leaves a region.
	MultiNode, CrossRegion, Preemptions int
	// PlaceCalls and PlaceTime measure the placer: calls and the wall time spent in them.
	PlaceCalls int
	PlaceTime  time.Duration
	// JobsDone are the completed jobs (in ID order).
	JobsDone []*Job
}

type eventKind int

const (
	evArrival eventKind = iota
	evFinish
	evNodeDown
	evNodeUp
	evDegrade
	evRestore
)

type event struct {
	at      float64
	kind    eventKind
	job     *Job
	node    int
	region  string
	version int
	seq     int
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	*q = old[:len(old)-1]
	return e
}

// Market is a prepared simulation: the fleet, the jobs and the fault schedule. Run it once per placer.
type Market struct {
	cfg     Config
	data    *Data
	params  types.Params
	jobs    []TraceJob
	dropped int
	gpus    uint32
}

// NewMarket checks a configuration against the data and selects the slice's jobs.
func NewMarket(cfg Config, data *Data) (*Market, error) {
	if cfg.Jobs <= 0 || cfg.Start < 0 || cfg.Start+cfg.Jobs > len(data.Jobs) {
		return nil, fmt.Errorf("slice [%d, %d) is outside the trace's %d jobs; give 0 <= start and start + jobs <= %d",
			cfg.Start, cfg.Start+cfg.Jobs, len(data.Jobs), len(data.Jobs))
	}
	if cfg.Load < 0 || math.IsNaN(cfg.Load) || math.IsInf(cfg.Load, 0) {
		return nil, fmt.Errorf("load %v: give a positive number (1 offers as much GPU time as the fleet has), or 0 for the trace's times", cfg.Load)
	}
	if cfg.NodeMTBFHours < 0 || cfg.RepairHours < 0 || cfg.LinkDegradeMTBFHours < 0 || cfg.DegradeHours < 0 {
		return nil, fmt.Errorf("fault rates and durations must not be negative")
	}
	if cfg.LinkDegradeMTBFHours > 0 && (cfg.DegradeFactor <= 0 || cfg.DegradeFactor > 1) {
		return nil, fmt.Errorf("degrade factor %v: give a share of throughput kept, in (0, 1]", cfg.DegradeFactor)
	}
	params := types.DefaultParams()
	params.Regions = slices.Clone(cfg.Fleet.Regions)
	slices.Sort(params.Regions)
	m := &Market{cfg: cfg, data: data, params: params}
	fleet, err := m.newFleet()
	if err != nil {
		return nil, err
	}
	m.gpus = fleet.TotalGPUs()
	largest := fleet.TotalGPUs()
	if cfg.MaxJobGPUs > 0 {
		largest = min(largest, cfg.MaxJobGPUs)
	}
	for _, j := range data.Jobs[cfg.Start : cfg.Start+cfg.Jobs] {
		if j.GPUs > largest {
			m.dropped++
			continue
		}
		m.jobs = append(m.jobs, j)
	}
	if len(m.jobs) == 0 {
		return nil, fmt.Errorf("no job of the slice fits the fleet's %d GPUs", fleet.TotalGPUs())
	}
	return m, nil
}

// Params are the chain parameters leases are checked and scored with (x/allocation's defaults, the
// fleet's regions).
func (m *Market) Params() types.Params { return m.params }

// FleetGPUs is the number of GPUs of the market's fleet.
func (m *Market) FleetGPUs() uint32 { return m.gpus }

// Config returns the market's configuration.
func (m *Market) Config() Config { return m.cfg }

func (m *Market) newFleet() (*Fleet, error) {
	return NewFleet(m.cfg.Fleet, m.data.Offers, types.MeasuredRegionLinks, m.cfg.Seed)
}

// compactParts is the most compact split of g GPUs into testbed nodes: as many full nodes as possible.
func compactParts(g uint32) []uint32 {
	var parts []uint32
	for g > 0 {
		c := min(g, TestbedGPUsPerNode)
		parts = append(parts, c)
		g -= c
	}
	return parts
}

// bestStep is the fastest step time Profile.Iteration gives for any placement of g GPUs: every split over
// at most 4 testbed nodes, and every larger node count (whose time depends only on the count and g).
func bestStep(p *Profile, g uint32) float64 {
	best, _ := p.Iteration(compactParts(g))
	var walk func(parts []uint32, left uint32)
	walk = func(parts []uint32, left uint32) {
		if left == 0 {
			if s, _ := p.Iteration(parts); s < best {
				best = s
			}
			return
		}
		if len(parts) == 4 {
			return
		}
		lo := uint32(1)
		if len(parts) > 0 {
			lo = parts[len(parts)-1]
		}
		for c := lo; c <= min(left, TestbedGPUsPerNode); c++ {
			walk(append(slices.Clone(parts), c), left-c)
		}
	}
	walk(nil, g)
	for k := uint32(5); k <= g; k++ {
		if g > k*TestbedGPUsPerNode {
			continue
		}
		parts := make([]uint32, k)
		for i := range parts {
			parts[i] = g / k
			if uint32(i) < g%k {
				parts[i]++
			}
		}
		if s, _ := p.Iteration(parts); s < best {
			best = s
		}
	}
	return best
}

// Jobs builds the slice's jobs, with arrivals scaled to the load.
func (m *Market) Jobs() []*Job {
	r := rand.New(rand.NewSource(m.cfg.Seed ^ 0x5eed))
	jobs := make([]*Job, len(m.jobs))
	t0 := m.jobs[0].Arrival
	var offered float64
	for i, tj := range m.jobs {
		model := Models[r.Intn(len(Models))]
		p := m.data.Profiles[model]
		compact, _ := p.Iteration(compactParts(tj.GPUs))
		best := bestStep(p, tj.GPUs)
		j := &Job{
			ID: i, Trace: tj, Model: model, Arrival: tj.Arrival.Sub(t0).Seconds(),
			Iterations: tj.Duration / compact, BestStep: best, Finish: -1,
		}
		offered += float64(tj.GPUs) * j.Iterations * best
		jobs[i] = j
	}
	if span := jobs[len(jobs)-1].Arrival; m.cfg.Load > 0 && span > 0 {
		want := offered / (m.cfg.Load * float64(m.gpus))
		for _, j := range jobs {
			j.Arrival *= want / span
		}
	}
	maxPrice := sdk.NewCoin(types.DefaultDenom, sdkmath.NewIntFromUint64(types.MaxPriceAmount))
	for _, j := range jobs {
		hours := j.Iterations * j.BestStep / 3600
		j.Lease = leasetypes.Lease{
			Id: uint64(j.ID + 1), BlocksPerHour: BlocksPerHour, State: leasetypes.LEASE_STATE_PENDING,
			Spec: leasetypes.LeaseSpec{
				TotalGpus: j.Trace.GPUs, MaxRttMs: m.cfg.MaxRttMs, MaxPricePerGpuHour: maxPrice,
				// The duration the submitter asks for: the job's run time at its best placement, in blocks.
				DurationBlocks: max(uint64(math.Ceil(hours*BlocksPerHour)), 1),
			},
		}
	}
	return jobs
}

// Run simulates the market with one placer.
func (m *Market) Run(placer Placer) (*Result, error) {
	fleet, err := m.newFleet()
	if err != nil {
		return nil, err
	}
	jobs := m.Jobs()
	s := &run{m: m, fleet: fleet, placer: placer, res: &Result{Placer: placer.Name(), Dropped: m.dropped},
		rand: rand.New(rand.NewSource(m.cfg.Seed ^ 0x9ace)), degraded: map[string]bool{}}
	for _, j := range jobs {
		s.push(event{at: j.Arrival, kind: evArrival, job: j})
	}
	s.scheduleFaults(jobs[len(jobs)-1].Arrival)
	if err := s.loop(len(jobs)); err != nil {
		return nil, err
	}
	return s.res, nil
}

type run struct {
	m        *Market
	fleet    *Fleet
	placer   Placer
	res      *Result
	rand     *rand.Rand
	events   eventQueue
	seq      int
	queue    []*Job // waiting, in arrival order
	running  map[*Job]bool
	degraded map[string]bool
	now      float64
	// time integrals for utilisation and fragmentation
	lastT, busyGPUSec, fragSum, fragTime float64
}

func (s *run) push(e event) {
	e.seq = s.seq
	s.seq++
	heap.Push(&s.events, e)
}

// scheduleFaults draws node failures and link degradations up to horizon seconds plus the longest a slice
// may run, from the seed alone, so that every placer meets the same faults.
func (s *run) scheduleFaults(lastArrival float64) {
	cfg := s.m.cfg
	// Faults stop a while after the last arrival; later ones would only lengthen the tail.
	horizon := lastArrival + 7*24*3600
	r := rand.New(rand.NewSource(cfg.Seed ^ 0xfa17))
	if cfg.NodeMTBFHours > 0 {
		for i := range s.fleet.nodes {
			for t := r.ExpFloat64() * cfg.NodeMTBFHours * 3600; t < horizon; t += r.ExpFloat64()*cfg.NodeMTBFHours*3600 + cfg.RepairHours*3600 {
				s.push(event{at: t, kind: evNodeDown, node: i})
				s.push(event{at: t + cfg.RepairHours*3600, kind: evNodeUp, node: i})
			}
		}
	}
	if cfg.LinkDegradeMTBFHours > 0 {
		for _, region := range s.fleet.Regions() {
			for t := r.ExpFloat64() * cfg.LinkDegradeMTBFHours * 3600; t < horizon; t += r.ExpFloat64()*cfg.LinkDegradeMTBFHours*3600 + cfg.DegradeHours*3600 {
				s.push(event{at: t, kind: evDegrade, region: region})
				s.push(event{at: t + cfg.DegradeHours*3600, kind: evRestore, region: region})
			}
		}
	}
}

func (s *run) loop(total int) error {
	s.running = map[*Job]bool{}
	for s.events.Len() > 0 && len(s.res.JobsDone) < total {
		e := heap.Pop(&s.events).(event)
		s.advance(e.at)
		switch e.kind {
		case evArrival:
			e.job.queuedAt = s.now
			s.enqueue(e.job)
		case evFinish:
			if e.version != e.job.version || !s.running[e.job] {
				continue
			}
			if err := s.finish(e.job); err != nil {
				return err
			}
		case evNodeDown:
			if err := s.nodeDown(e.node); err != nil {
				return err
			}
		case evNodeUp:
			s.fleet.setStatus(e.node, types.NODE_STATUS_ACTIVE)
		case evDegrade, evRestore:
			s.degrade(e.region, e.kind == evDegrade)
		}
		// Events at the same instant are applied before anything is placed.
		if s.events.Len() > 0 && s.events[0].at == s.now {
			continue
		}
		if err := s.schedule(); err != nil {
			return err
		}
	}
	if len(s.res.JobsDone) < total {
		return fmt.Errorf("simulation stopped with %d of %d jobs done and %d queued: the queued jobs can never be placed",
			len(s.res.JobsDone), total, len(s.queue))
	}
	s.summarise()
	return nil
}

// advance moves the clock, integrating busy GPUs and fragmentation over the interval.
func (s *run) advance(t float64) {
	if dt := t - s.lastT; dt > 0 {
		var busy, free, stranded float64
		for _, n := range s.fleet.nodes {
			for _, g := range n.Gpus {
				busy += float64(g.Reserved)
				if n.Status != types.NODE_STATUS_ACTIVE {
					continue
				}
				free += float64(g.Free())
				if g.Reserved > 0 {
					stranded += float64(g.Free())
				}
			}
		}
		s.busyGPUSec += busy * dt
		if free > 0 {
			s.fragSum += stranded / free * dt
			s.fragTime += dt
		}
	}
	s.lastT, s.now = t, t
}

func (s *run) enqueue(j *Job) {
	i, _ := slices.BinarySearchFunc(s.queue, j, func(a, b *Job) int {
		if a.Arrival != b.Arrival {
			if a.Arrival < b.Arrival {
				return -1
			}
			return 1
		}
		return a.ID - b.ID
	})
	s.queue = slices.Insert(s.queue, i, j)
}

// schedule tries the queued jobs oldest first, as the chain tries pending leases, skipping any that need
// more GPUs than are free.
func (s *run) schedule() error {
	free := s.fleet.FreeGPUs()
	kept := s.queue[:0]
	for _, j := range s.queue {
		if free == 0 || j.Trace.GPUs > free {
			kept = append(kept, j)
			continue
		}
		d := &Decision{Job: j, Fleet: s.fleet, Params: s.m.params, Now: s.now, Rand: s.rand, Queued: len(s.queue), Running: len(s.running)}
		start := time.Now()
		c, ok := s.placer.Place(d)
		s.res.PlaceTime += time.Since(start)
		s.res.PlaceCalls++
		if !ok {
			kept = append(kept, j)
			continue
		}
		if err := s.start(j, c); err != nil {
			return fmt.Errorf("placer %s: job %d: %w", s.placer.Name(), j.ID, err)
		}
		free -= j.Trace.GPUs
	}
	clear(s.queue[len(kept):])
	s.queue = kept
	return nil
}

// start re-checks a placement against the fleet as it is (as the chain re-scores a proposal), reserves it
// and starts the job.
func (s *run) start(j *Job, c types.Candidate) error {
	takes := make([]Take, len(c.Nodes))
	for i, n := range c.Nodes {
		takes[i] = Take{Node: n.NodeId, Group: n.GpuGroup, GPUs: n.Gpus}
	}
	checked, err := s.fleet.Candidate(j.Lease, s.m.params, takes, c.RingOrder)
	if err != nil {
		return fmt.Errorf("placement refused: %w", err)
	}
	for _, n := range checked.Nodes {
		if err := s.fleet.reserve(s.fleet.byID[n.NodeId], n.GpuGroup, int64(n.Gpus)); err != nil {
			return err
		}
	}
	j.Placement = &checked
	j.Queued += s.now - j.queuedAt
	if j.Preemptions == 0 {
		j.Start = s.now
		j.remaining = j.Iterations
	}
	j.since = s.now
	s.running[j] = true
	s.rate(j)
	return nil
}

// rate brings a running job's progress up to date and recomputes its step time on the links as they are
// now: Pollux's step and sync time for its GPUs per node, with the sync part slowed by the ratio of the
// in-region throughput to the ring's bottleneck throughput and the ring's extra round trips (one per node
// after the first, at the bottleneck RTT above the in-region RTT) when the ring leaves a region.
func (s *run) rate(j *Job) {
	if j.step > 0 {
		done := (s.now - j.since) / j.step
		s.account(j, s.now-j.since)
		j.remaining = max(j.remaining-done, 0)
	}
	j.since = s.now
	perNode := make([]uint32, len(j.Placement.Nodes))
	for i, n := range j.Placement.Nodes {
		perNode[i] = n.Gpus
	}
	step, sync := s.m.data.Profiles[j.Model].Iteration(perNode)
	wire := sync
	if len(perNode) > 1 {
		bw, rtt := uint64(math.MaxUint64), uint64(0)
		regionOf := map[string]string{}
		for _, n := range j.Placement.Nodes {
			regionOf[n.NodeId] = n.Region
		}
		for _, h := range types.RingHops(regionOf, j.Placement.RingOrder) {
			l, _ := s.fleet.link(h[0], h[1])
			bw, rtt = min(bw, l.BandwidthMbps), max(rtt, l.RttUs)
		}
		if bw > 0 && bw < s.fleet.refBandwidth {
			wire = sync * float64(s.fleet.refBandwidth) / float64(bw)
		} else if bw == 0 {
			wire = sync * float64(s.fleet.refBandwidth) // unmeasured: 1 Mbit/s
		}
		if rtt > s.fleet.selfRTT {
			wire += float64(len(perNode)-1) * float64(rtt-s.fleet.selfRTT) / 1e6
		}
	}
	j.step, j.sync, j.wire = step-sync+wire, sync, wire
	j.version++
	s.push(event{at: s.now + j.remaining*j.step, kind: evFinish, job: j, version: j.version})
}

// account adds dt seconds of running to a job's cost and sync totals.
func (s *run) account(j *Job, dt float64) {
	if dt <= 0 {
		return
	}
	for _, n := range j.Placement.Nodes {
		j.costMicroUSD += float64(n.Gpus) * float64(n.PricePerGpuHour.Uint64()) * dt / 3600
	}
	if len(j.Placement.Nodes) > 1 && j.step > 0 {
		iters := dt / j.step
		j.syncRef += iters * j.sync
		j.syncSpent += iters * j.wire
	}
}

func (s *run) release(j *Job) error {
	for _, n := range j.Placement.Nodes {
		if err := s.fleet.reserve(s.fleet.byID[n.NodeId], n.GpuGroup, -int64(n.Gpus)); err != nil {
			return err
		}
	}
	delete(s.running, j)
	return nil
}

func (s *run) finish(j *Job) error {
	s.account(j, s.now-j.since)
	if err := s.release(j); err != nil {
		return err
	}
	j.Finish = s.now
	j.remaining = 0
	s.res.JobsDone = append(s.res.JobsDone, j)
	if len(j.Placement.Nodes) > 1 {
		s.res.MultiNode++
		for _, n := range j.Placement.Nodes[1:] {
			if n.Region != j.Placement.Nodes[0].Region {
				s.res.CrossRegion++
				break
			}
		}
	}
	return nil
}

// nodeDown fails a node: the jobs on it stop, keep what they did, and queue again.
func (s *run) nodeDown(i int) error {
	id := s.fleet.nodes[i].Id
	var hit []*Job
	for j := range s.running {
		for _, n := range j.Placement.Nodes {
			if n.NodeId == id {
				hit = append(hit, j)
				break
			}
		}
	}
	slices.SortFunc(hit, func(a, b *Job) int { return a.ID - b.ID })
	for _, j := range hit {
		s.account(j, s.now-j.since)
		j.remaining = max(j.remaining-(s.now-j.since)/j.step, 0)
		j.step = 0
		if err := s.release(j); err != nil {
			return err
		}
		j.version++
		j.Preemptions++
		s.res.Preemptions++
		j.queuedAt = s.now
		s.enqueue(j)
	}
	s.fleet.setStatus(i, types.NODE_STATUS_JAILED)
	return nil
}

// degrade changes the throughput of a region's links to other regions and re-times the jobs that use them.
func (s *run) degrade(region string, on bool) {
	if s.degraded[region] == on {
		return
	}
	s.degraded[region] = on
	for k, base := range s.fleet.base {
		if k[0] == k[1] || (k[0] != region && k[1] != region) {
			continue
		}
		l := base
		if s.degraded[k[0]] || s.degraded[k[1]] {
			l.BandwidthMbps = uint64(float64(base.BandwidthMbps) * s.m.cfg.DegradeFactor)
		}
		s.fleet.links[k] = l
	}
	var hit []*Job
	for j := range s.running {
		for _, n := range j.Placement.Nodes {
			if n.Region == region && len(j.Placement.Nodes) > 1 {
				hit = append(hit, j)
				break
			}
		}
	}
	slices.SortFunc(hit, func(a, b *Job) int { return a.ID - b.ID })
	for _, j := range hit {
		s.rate(j)
	}
}

func (s *run) summarise() {
	r := s.res
	slices.SortFunc(r.JobsDone, func(a, b *Job) int { return a.ID - b.ID })
	r.Jobs = len(r.JobsDone)
	jcts := make([]float64, 0, r.Jobs)
	var first, last, syncRef, syncSpent float64
	first = math.Inf(1)
	for _, j := range r.JobsDone {
		jct := j.Finish - j.Arrival
		jcts = append(jcts, jct)
		r.MeanJCT += jct
		r.MeanQueue += j.Queued
		r.CostUSD += j.costMicroUSD / 1e6
		first, last = min(first, j.Arrival), max(last, j.Finish)
		syncRef += j.syncRef
		syncSpent += j.syncSpent
	}
	r.MeanJCT /= float64(r.Jobs)
	r.MeanQueue /= float64(r.Jobs)
	r.P95JCT = percentile(jcts, 95)
	r.Makespan = last - first
	if syncSpent > 0 {
		r.BandwidthUtil = syncRef / syncSpent
	} else {
		r.BandwidthUtil = 1
	}
	if r.Makespan > 0 {
		r.GPUUtil = s.busyGPUSec / (float64(s.fleet.TotalGPUs()) * r.Makespan)
	}
	if s.fragTime > 0 {
		r.Fragmentation = s.fragSum / s.fragTime
	}
}

// percentile is the nearest-rank percentile of xs (sorted in place).
func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	return xs[max(rank-1, 0)]
}

// Bound is the offline bound: every job starts at its arrival on its fastest measured placement, on the
// cheapest GPUs of the fleet. No placer can have a lower mean JCT (queueing is never negative and no
// placement is faster), or pay less.
func (m *Market) Bound() Result {
	fleet, _ := m.newFleet()
	cheapest := uint64(math.MaxUint64)
	for _, n := range fleet.nodes {
		cheapest = min(cheapest, n.PricePerGpuHour.Amount.Uint64())
	}
	r := Result{Placer: "offline bound", Dropped: m.dropped, BandwidthUtil: 1}
	jobs := m.Jobs()
	jcts := make([]float64, 0, len(jobs))
	for _, j := range jobs {
		d := j.Iterations * j.BestStep
		jcts = append(jcts, d)
		r.MeanJCT += d
		r.CostUSD += float64(j.Trace.GPUs) * float64(cheapest) * d / 3600 / 1e6
	}
	r.Jobs = len(jobs)
	r.MeanJCT /= float64(r.Jobs)
	r.P95JCT = percentile(jcts, 95)
	return r
}

// Snapshot returns n decisions on one fleet of the market with about taken of its GPUs reserved (whole
// groups' GPUs drawn at random), for the market's first n jobs that fit what is free: what a placer sees in
// the middle of a busy market, for benchmarks and tests.
func Snapshot(m *Market, taken float64, n int, r *rand.Rand) []*Decision {
	fleet, err := m.newFleet()
	if err != nil {
		return nil
	}
	for i := range fleet.nodes {
		g := fleet.nodes[i].Gpus[0]
		var k int64
		for range g.Count {
			if r.Float64() < taken {
				k++
			}
		}
		_ = fleet.reserve(i, 0, k)
	}
	free := fleet.FreeGPUs()
	var out []*Decision
	for _, j := range m.Jobs() {
		if len(out) == n {
			break
		}
		if j.Trace.GPUs > free {
			continue
		}
		out = append(out, &Decision{Job: j, Fleet: fleet, Params: m.params, Rand: r, Queued: 1})
	}
	return out
}
