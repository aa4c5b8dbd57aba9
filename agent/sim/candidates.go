package sim

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// Candidates returns the distinct valid placements a policy chooses among for a decision: the chain's
// fallback, best-fit, cheapest-first, first-fit, and for every region of the fleet a fill of that region
// alone (its tightest single node, else its emptiest nodes first) — so that a compact placement in each
// region is always on the list next to the cheap and the spread ones. At most limit (0: no limit), in
// that order.
func Candidates(d *Decision, limit int) []types.Candidate {
	out, _ := CandidateSet(d, limit)
	return out
}

// CandidateSet is Candidates, and whether the chain's fallback placed the lease (then it is the first
// candidate; else the list starts with the next rule that placed it).
func CandidateSet(d *Decision, limit int) ([]types.Candidate, bool) {
	var out []types.Candidate
	seen := map[string]bool{}
	add := func(c types.Candidate, ok bool) {
		if !ok || (limit > 0 && len(out) >= limit) {
			return
		}
		k := placementKey(c)
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, c)
	}
	fb, fbOK := Fallback{}.Place(d)
	add(fb, fbOK)
	cp := capacityOf(d)
	add(bestFit(d, cp))
	add(cheapestFirst(d, cp))
	add(firstFit(d, cp))
	need := d.Job.Lease.Spec.TotalGpus
	for _, idx := range d.Fleet.byRegion {
		tightest := -1
		var nodes []int
		for _, i := range idx {
			if cp.avail[i] == 0 {
				continue
			}
			nodes = append(nodes, i)
			if cp.avail[i] >= need && (tightest < 0 || cp.avail[i] < cp.avail[tightest]) {
				tightest = i
			}
		}
		if tightest >= 0 {
			add(fillNodes(d, cp, []int{tightest}))
			continue
		}
		slices.SortStableFunc(nodes, func(a, b int) int { return cmp.Compare(cp.avail[b], cp.avail[a]) })
		add(fillNodes(d, cp, nodes))
	}
	return out, fbOK
}

// placementKey identifies a placement by its (node, GPUs) pairs in node order.
func placementKey(c types.Candidate) string {
	parts := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		parts[i] = n.NodeId + ":" + strconv.FormatUint(uint64(n.Gpus), 10)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}
