package sim

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// TestbedGPUsPerNode is the GPU count of the machines Pollux measured on (AWS g4dn.12xlarge, 4 × T4).
const TestbedGPUsPerNode = 4

// Profile is one Pollux model's measured iteration time per placement, at one per-GPU batch size.
//
// A placement is the list of GPUs used on each node. Pollux measured placements of up to 4 nodes with 1–4
// GPUs each (`placements.csv`) and 6, 8, 12 and 16 nodes by total GPUs (`scalability.csv`). The simulator
// splits each of its nodes into testbed-sized parts of at most 4 GPUs (an 8-GPU node is two testbed nodes
// joined by the in-region network the testbed had) and looks the parts up: by their multiset of GPU counts
// when there are at most 4, else by the nearest measured node count (at least the parts', at most 16) and
// GPU count.
type Profile struct {
	Model string
	// LocalBatch is the per-GPU batch size the times are for: the median of the batch sizes measured for
	// every placement in both files.
	LocalBatch int
	// small: multiset key (digits in ascending order) → mean step and sync seconds over the permutations
	// measured.
	small map[string]iteration
	// large: measured (nodes, GPUs) rows, sorted by nodes then GPUs.
	large []scaleRow
}

type iteration struct{ step, sync float64 }

type scaleRow struct {
	nodes, gpus int
	it          iteration
}

// Iteration returns the seconds per training iteration and the part of it spent synchronising gradients, on
// the testbed's network, for a placement of gpusPerNode GPUs on each node (at least one node).
func (p *Profile) Iteration(gpusPerNode []uint32) (step, sync float64) {
	var parts []int
	for _, g := range gpusPerNode {
		for g > 0 {
			c := min(g, TestbedGPUsPerNode)
			parts = append(parts, int(c))
			g -= c
		}
	}
	if len(parts) <= 4 {
		if it, ok := p.small[multisetKey(parts)]; ok {
			return it.step, it.sync
		}
	}
	total := 0
	for _, c := range parts {
		total += c
	}
	// The smallest measured node count that holds the parts (16 when there are more), then the nearest
	// GPU count measured with it.
	nodes := p.large[len(p.large)-1].nodes
	for _, r := range p.large {
		if r.nodes >= len(parts) {
			nodes = r.nodes
			break
		}
	}
	best := -1
	for i, r := range p.large {
		if r.nodes != nodes {
			continue
		}
		if best < 0 || abs(r.gpus-total) < abs(p.large[best].gpus-total) {
			best = i
		}
	}
	return p.large[best].it.step, p.large[best].it.sync
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func multisetKey(parts []int) string {
	s := slices.Clone(parts)
	slices.Sort(s)
	var b strings.Builder
	for _, c := range s {
		b.WriteByte(byte('0' + c))
	}
	return b.String()
}

func loadProfile(dir, model string) (*Profile, error) {
	placements, err := readCSV(filepath.Join(dir, model+"_placements.csv"))
	if err != nil {
		return nil, err
	}
	scal, err := readCSV(filepath.Join(dir, model+"_scalability.csv"))
	if err != nil {
		return nil, err
	}
	num := func(file string, i int, r map[string]string, col string) (float64, error) {
		v, err := strconv.ParseFloat(r[col], 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("%s_%s.csv row %d: %s %q is not a non-negative number", model, file, i+2, col, r[col])
		}
		return v, nil
	}
	// The batch sizes measured for every placement of both files.
	keysPerBatch := map[int]map[string]bool{}
	rowsPerBatch := map[int]int{}
	allKeys := map[string]bool{}
	for i, r := range placements {
		b, err := num("placements", i, r, "local_bsz")
		if err != nil {
			return nil, err
		}
		if keysPerBatch[int(b)] == nil {
			keysPerBatch[int(b)] = map[string]bool{}
		}
		keysPerBatch[int(b)][r["placement"]] = true
		allKeys[r["placement"]] = true
	}
	var scalMax int
	for i, r := range scal {
		b, err := num("scalability", i, r, "local_bsz")
		if err != nil {
			return nil, err
		}
		rowsPerBatch[int(b)]++
		scalMax = max(scalMax, rowsPerBatch[int(b)])
	}
	var full []int
	for b, keys := range keysPerBatch {
		if len(keys) == len(allKeys) && rowsPerBatch[b] == scalMax {
			full = append(full, b)
		}
	}
	if len(full) == 0 {
		return nil, fmt.Errorf("%s: no batch size was measured for every placement in both files", model)
	}
	slices.Sort(full)
	p := &Profile{Model: model, LocalBatch: full[(len(full)-1)/2], small: map[string]iteration{}}

	sums := map[string]iteration{}
	counts := map[string]int{}
	for i, r := range placements {
		if r["local_bsz"] != strconv.Itoa(p.LocalBatch) {
			continue
		}
		var parts []int
		for _, c := range r["placement"] {
			if c < '1' || c > '0'+TestbedGPUsPerNode {
				return nil, fmt.Errorf("%s_placements.csv row %d: placement %q has a digit outside 1..%d", model, i+2, r["placement"], TestbedGPUsPerNode)
			}
			parts = append(parts, int(c-'0'))
		}
		step, err1 := num("placements", i, r, "step_time")
		sync, err2 := num("placements", i, r, "sync_time")
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%w%w", err1, err2)
		}
		k := multisetKey(parts)
		s := sums[k]
		sums[k] = iteration{s.step + step, s.sync + sync}
		counts[k]++
	}
	for k, s := range sums {
		n := float64(counts[k])
		p.small[k] = iteration{s.step / n, min(s.sync/n, s.step/n)}
	}
	for i, r := range scal {
		if r["local_bsz"] != strconv.Itoa(p.LocalBatch) {
			continue
		}
		nodes, err1 := strconv.Atoi(r["num_nodes"])
		gpus, err2 := strconv.Atoi(r["num_replicas"])
		step, err3 := num("scalability", i, r, "step_time")
		sync, err4 := num("scalability", i, r, "sync_time")
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || nodes < 1 || gpus < nodes {
			return nil, fmt.Errorf("%s_scalability.csv row %d: cannot read num_nodes %q, num_replicas %q, step_time or sync_time",
				model, i+2, r["num_nodes"], r["num_replicas"])
		}
		p.large = append(p.large, scaleRow{nodes, gpus, iteration{step, min(sync, step)}})
	}
	slices.SortFunc(p.large, func(a, b scaleRow) int {
		if a.nodes != b.nodes {
			return a.nodes - b.nodes
		}
		return a.gpus - b.gpus
	})
	// Every multiset of 1..4 parts of 1..4 GPUs must be measured, so that Iteration never guesses for small
	// placements.
	var check func(parts []int) error
	check = func(parts []int) error {
		if len(parts) > 0 {
			if _, ok := p.small[multisetKey(parts)]; !ok {
				return fmt.Errorf("%s: placement %s was not measured at local_bsz %d", model, multisetKey(parts), p.LocalBatch)
			}
		}
		if len(parts) == 4 {
			return nil
		}
		lo := 1
		if len(parts) > 0 {
			lo = parts[len(parts)-1]
		}
		for c := lo; c <= TestbedGPUsPerNode; c++ {
			if err := check(append(slices.Clone(parts), c)); err != nil {
				return err
			}
		}
		return nil
	}
	if err := check(nil); err != nil {
		return nil, err
	}
	if len(p.large) == 0 {
		return nil, fmt.Errorf("%s_scalability.csv has no rows at local_bsz %d", model, p.LocalBatch)
	}
	return p, nil
}
