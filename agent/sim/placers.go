package sim

import (
	"cmp"
	"slices"
	"strings"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// The baseline placers. Every one of them places a job only where the lease's hard constraints hold (its
// placement goes through Fleet.Candidate, the chain's checks); they differ in the order they take nodes in.

// Fallback is the chain's fallback allocator, x/allocation's types.Fallback, reading the simulated fleet
// through the same interface it reads the chain's store with.
type Fallback struct{}

func (Fallback) Name() string { return "fallback (chain)" }

func (Fallback) Place(d *Decision) (types.Candidate, bool) {
	c, err := types.Fallback(d.Fleet, d.Params, d.Job.Lease, nil)
	return c, err == nil
}

// FirstFit takes free GPUs from nodes in registration (id) order. The fleet registers nodes round-robin
// over its regions, so this is also the static, region-blind placement.
type FirstFit struct{}

func (FirstFit) Name() string { return "first-fit (static, region-blind)" }

func (FirstFit) Place(d *Decision) (types.Candidate, bool) {
	return fillInOrder(d, func(a, b *types.Node) int { return 0 })
}

// BestFit puts a job on the single node whose free GPUs fit it most tightly; a job no node can hold takes
// the nodes with the most free GPUs first (the fewest nodes).
type BestFit struct{}

func (BestFit) Name() string { return "best-fit" }

func (BestFit) Place(d *Decision) (types.Candidate, bool) {
	need := d.Job.Lease.Spec.TotalGpus
	best := -1
	var bestFree uint32
	for i := range d.Fleet.nodes {
		n := &d.Fleet.nodes[i]
		if free := usable(d, n); free >= need && (best < 0 || free < bestFree) {
			best, bestFree = i, free
		}
	}
	if best >= 0 {
		return fillNodes(d, []int{best})
	}
	return fillInOrder(d, func(a, b *types.Node) int { return cmp.Compare(usable(d, b), usable(d, a)) })
}

// CheapestFirst takes the cheapest GPUs first (ties: the node with more free GPUs, then id).
type CheapestFirst struct{}

func (CheapestFirst) Name() string { return "cheapest-first" }

func (CheapestFirst) Place(d *Decision) (types.Candidate, bool) {
	return fillInOrder(d, func(a, b *types.Node) int {
		return cmp.Or(a.PricePerGpuHour.Amount.BigIntMut().Cmp(b.PricePerGpuHour.Amount.BigIntMut()),
			cmp.Compare(usable(d, b), usable(d, a)))
	})
}

// Random takes nodes in a random order.
type Random struct{}

func (Random) Name() string { return "random" }

func (Random) Place(d *Decision) (types.Candidate, bool) {
	order := make([]int, len(d.Fleet.nodes))
	for i := range order {
		order[i] = i
	}
	d.Rand.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	return fillNodes(d, order)
}

// Baselines are the heuristics the policy is evaluated against, in table order.
func Baselines() []Placer {
	return []Placer{Random{}, FirstFit{}, BestFit{}, CheapestFirst{}, Fallback{}}
}

// usable is how many GPUs of a node's first matching group the job may take.
func usable(d *Decision, n *types.Node) uint32 {
	_, free := matchingGroup(d, n)
	return free
}

// matchingGroup is a node's group with the lease's model and memory that has the most free GPUs, and how
// many of them the lease may take (0: none).
func matchingGroup(d *Decision, n *types.Node) (uint32, uint32) {
	spec := d.Job.Lease.Spec
	if n.Status != types.NODE_STATUS_ACTIVE || n.BandwidthMbps < spec.MinBandwidthMbps ||
		(len(spec.Regions) > 0 && !slices.Contains(spec.Regions, n.Region)) {
		return 0, 0
	}
	var group, free uint32
	for gi, g := range n.Gpus {
		if (spec.GpuModel != "" && g.Model != spec.GpuModel) || g.MemoryMib < spec.MinGpuMemoryMib {
			continue
		}
		if g.Free() > free {
			group, free = uint32(gi), g.Free()
		}
	}
	if spec.MaxGpusPerNode > 0 {
		free = min(free, spec.MaxGpusPerNode)
	}
	return group, free
}

// fillInOrder takes GPUs from the nodes sorted by cmp (a stable sort of id order).
func fillInOrder(d *Decision, compare func(a, b *types.Node) int) (types.Candidate, bool) {
	order := make([]int, len(d.Fleet.nodes))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		return cmp.Or(compare(&d.Fleet.nodes[a], &d.Fleet.nodes[b]), strings.Compare(d.Fleet.nodes[a].Id, d.Fleet.nodes[b].Id))
	})
	return fillNodes(d, order)
}

// fillNodes takes GPUs from the nodes in order until the job has them all, and checks the placement.
func fillNodes(d *Decision, order []int) (types.Candidate, bool) {
	need := d.Job.Lease.Spec.TotalGpus
	var takes []Take
	for _, i := range order {
		if need == 0 {
			break
		}
		n := &d.Fleet.nodes[i]
		group, free := matchingGroup(d, n)
		if free == 0 {
			continue
		}
		t := min(free, need)
		takes = append(takes, Take{Node: n.Id, Group: group, GPUs: t})
		need -= t
	}
	if need > 0 {
		return types.Candidate{}, false
	}
	c, err := d.Fleet.Candidate(d.Job.Lease, d.Params, takes, nil)
	return c, err == nil
}
