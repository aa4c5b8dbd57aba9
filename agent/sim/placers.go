package sim

import (
	"cmp"
	"slices"

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

func (FirstFit) Place(d *Decision) (types.Candidate, bool) { return firstFit(d, capacityOf(d)) }

func firstFit(d *Decision, cp capacity) (types.Candidate, bool) {
	order := make([]int, len(d.Fleet.nodes))
	for i := range order {
		order[i] = i
	}
	return fillNodes(d, cp, order)
}

// BestFit puts a job on the single node whose free GPUs fit it most tightly; a job no node can hold takes
// the nodes with the most free GPUs first (the fewest nodes).
type BestFit struct{}

func (BestFit) Name() string { return "best-fit" }

func (BestFit) Place(d *Decision) (types.Candidate, bool) { return bestFit(d, capacityOf(d)) }

func bestFit(d *Decision, cp capacity) (types.Candidate, bool) {
	need := d.Job.Lease.Spec.TotalGpus
	best := -1
	for i, free := range cp.avail {
		if free >= need && (best < 0 || free < cp.avail[best]) {
			best = i
		}
	}
	if best >= 0 {
		return fillNodes(d, cp, []int{best})
	}
	return fillSorted(d, cp, func(a, b int) int { return cmp.Compare(cp.avail[b], cp.avail[a]) })
}

// CheapestFirst takes the cheapest GPUs first (ties: the node with more free GPUs, then id).
type CheapestFirst struct{}

func (CheapestFirst) Name() string { return "cheapest-first" }

func (CheapestFirst) Place(d *Decision) (types.Candidate, bool) {
	return cheapestFirst(d, capacityOf(d))
}

func cheapestFirst(d *Decision, cp capacity) (types.Candidate, bool) {
	return fillSorted(d, cp, func(a, b int) int {
		return cmp.Or(cmp.Compare(cp.price[a], cp.price[b]), cmp.Compare(cp.avail[b], cp.avail[a]))
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
	return fillNodes(d, capacityOf(d), order)
}

// Baselines are the heuristics the policy is evaluated against, in table order.
func Baselines() []Placer {
	return []Placer{Random{}, FirstFit{}, BestFit{}, CheapestFirst{}, Fallback{}}
}

// capacity is, per node of the fleet, the group a decision's lease would take GPUs from (its matching
// group with the most free GPUs), how many it may take (0: none), and the node's price: computed once per
// decision, so that orderings do not recompute them per comparison.
type capacity struct {
	group, avail []uint32
	price        []uint64
}

func capacityOf(d *Decision) capacity {
	n := len(d.Fleet.nodes)
	cp := capacity{group: make([]uint32, n), avail: make([]uint32, n), price: make([]uint64, n)}
	for i := range d.Fleet.nodes {
		node := &d.Fleet.nodes[i]
		cp.group[i], cp.avail[i] = matchingGroup(d, node)
		cp.price[i] = d.Fleet.price[i]
	}
	return cp
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

// fillSorted takes GPUs from the nodes that can give some, sorted by compare (then id order).
func fillSorted(d *Decision, cp capacity, compare func(a, b int) int) (types.Candidate, bool) {
	order := make([]int, 0, len(cp.avail))
	for i, a := range cp.avail {
		if a > 0 {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(compare(a, b), cmp.Compare(a, b)) })
	return fillNodes(d, cp, order)
}

// fillNodes takes GPUs from the nodes in order until the job has them all, and checks the placement.
func fillNodes(d *Decision, cp capacity, order []int) (types.Candidate, bool) {
	need := d.Job.Lease.Spec.TotalGpus
	var takes []Take
	for _, i := range order {
		if need == 0 {
			break
		}
		if cp.avail[i] == 0 {
			continue
		}
		t := min(cp.avail[i], need)
		takes = append(takes, Take{Node: d.Fleet.nodes[i].Id, Group: cp.group[i], GPUs: t})
		need -= t
	}
	if need > 0 {
		return types.Candidate{}, false
	}
	c, err := d.Fleet.Candidate(d.Job.Lease, d.Params, takes, nil)
	return c, err == nil
}
