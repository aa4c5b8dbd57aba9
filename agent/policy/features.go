package policy

import (
	"math"
	"math/big"

	"github.com/consensus-nro/nro/agent/sim"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// FeatureNames are the network's inputs, per candidate placement. Everything is known to an agent on the
// real chain (the lease, the registered nodes, the link matrix, the chain's cost), nothing is the
// simulator's hidden state (which model a job trains, how long it will really run). Values are scaled to
// about [0, 1].
var FeatureNames = []string{
	"lease_gpus_log2",           // log2(1 + GPUs) / 7
	"lease_hours_log",           // ln(1 + duration hours) / 5
	"fleet_free_share",          // free GPUs / all GPUs
	"queue_log",                 // ln(1 + leases waiting) / 7
	"price_usd",                 // mean price per GPU-hour, USD / 2
	"price_vs_cheapest",         // mean price / the cheapest candidate's − 1 (at most 3)
	"rtt_ms_log",                // ln(1 + bottleneck RTT ms) / 5
	"bandwidth_share",           // bottleneck throughput / 10 Gbit/s (at most 1)
	"nodes_log2",                // log2(nodes) / 6
	"extra_regions",             // regions spanned − 1, / 3
	"stranded_per_gpu",          // GPUs left free on the groups it takes from / lease GPUs (at most 4), / 4
	"region_free_taken",         // lease GPUs / free GPUs of the regions it uses
	"chain_cost_vs_best",        // the chain's total cost / the lowest candidate's − 1 (at most 3)
	"is_chain_fallback",         // 1 for the chain's own fallback placement
	"reputation",                // GPU-weighted (reputation − 5000) / 5000
	"largest_node_share",        // the largest node's GPUs in the placement / lease GPUs
	"cross_region_sync_penalty", // (in-region throughput / bottleneck throughput − 1) / 10, at most 1, when the ring leaves a region
}

// Features computes the feature rows of a decision's candidates (candidates[0] is taken to be the chain's
// fallback when fallbackFirst is set).
func Features(d *sim.Decision, cands []types.Candidate, fallbackFirst bool) [][]float64 {
	fleet := d.Fleet
	spec := d.Job.Lease.Spec
	g := float64(spec.TotalGpus)
	freeByRegion := map[string]float64{}
	var free float64
	for _, n := range fleet.Nodes() {
		if n.Status != types.NODE_STATUS_ACTIVE {
			continue
		}
		for _, gr := range n.Gpus {
			freeByRegion[n.Region] += float64(gr.Free())
			free += float64(gr.Free())
		}
	}
	prices := make([]float64, len(cands))
	costs := make([]float64, len(cands))
	minPrice, minCost := math.Inf(1), math.Inf(1)
	for i, c := range cands {
		var sum float64
		for _, n := range c.Nodes {
			sum += float64(n.Gpus) * float64(n.PricePerGpuHour.Uint64()) / 1e6
		}
		prices[i] = sum / g
		costs[i], _ = new(big.Float).SetInt(c.Score.Total.BigInt()).Float64()
		minPrice = min(minPrice, prices[i])
		minCost = min(minCost, costs[i])
	}
	hours := float64(spec.DurationBlocks) / float64(max(d.Job.Lease.BlocksPerHour, 1))
	out := make([][]float64, len(cands))
	for i, c := range cands {
		regions := map[string]bool{}
		var rep, largest float64
		for _, n := range c.Nodes {
			regions[n.Region] = true
			rep += float64(n.Gpus) * (float64(n.ReputationBps) - 5000) / 5000
			largest = max(largest, float64(n.Gpus))
		}
		var regionFree float64
		for r := range regions {
			regionFree += freeByRegion[r]
		}
		bw := float64(c.Score.BottleneckBandwidthMbps)
		var penalty float64
		if len(regions) > 1 {
			ref := float64(fleet.RefBandwidthMbps())
			if bw > 0 {
				penalty = min((ref/bw-1)/10, 1)
			} else {
				penalty = 1
			}
			penalty = max(penalty, 0)
		}
		fb := 0.0
		if fallbackFirst && i == 0 {
			fb = 1
		}
		out[i] = []float64{
			math.Log2(1+g) / 7,
			math.Log1p(hours) / 5,
			free / math.Max(float64(fleet.TotalGPUs()), 1),
			math.Log1p(float64(d.Queued)) / 7,
			prices[i] / 2,
			ratio(prices[i], minPrice),
			math.Log1p(float64(c.Score.BottleneckRttUs)/1000) / 5,
			math.Min(bw/10_000, 1),
			math.Log2(float64(len(c.Nodes))) / 6,
			float64(len(regions)-1) / 3,
			math.Min(float64(c.Score.StrandedGpus)/g, 4) / 4,
			g / math.Max(regionFree, g),
			ratio(costs[i], minCost),
			fb,
			rep / g,
			largest / g,
			penalty,
		}
	}
	return out
}

// ratio is x/min − 1, at most 3 (0 when min is not positive).
func ratio(x, lowest float64) float64 {
	if lowest <= 0 {
		return 0
	}
	return math.Min(x/lowest-1, 3)
}
