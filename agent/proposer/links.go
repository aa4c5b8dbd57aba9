package proposer

import (
	"fmt"

	"github.com/consensus-nro/nro/agent/sim"
	"github.com/consensus-nro/nro/x/allocation/types"
	audittypes "github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// Links are the links the chain scores a ring with, as read from the chain: x/audit's measured link matrix
// (the fresh entries only) over the genesis region link table.
type Links struct {
	regions  map[[2]string]types.RegionLink
	measured map[[2]string]types.RegionLink
}

// NewLinks builds the chain's view of the links from the region link table (x/allocation Query/RegionLinks),
// x/audit's link matrix (Query/Links), x/audit's link_report_window_epochs and its current epoch. A
// measured entry counts exactly where x/audit's MeasuredLink, which the chain's scoring reads, counts it:
// it has samples and its newest sample's epoch + link_report_window_epochs is above the current epoch;
// its RTT is the median RTT and its bandwidth the median throughput in kbit/s / 1000 (integer division).
func NewLinks(regions []types.RegionLink, matrix []audittypes.LinkAggregate, windowEpochs, epoch uint64) Links {
	l := Links{regions: make(map[[2]string]types.RegionLink, len(regions)), measured: map[[2]string]types.RegionLink{}}
	for _, r := range regions {
		a, b := types.LinkKey(r.RegionA, r.RegionB)
		l.regions[[2]string{a, b}] = r
	}
	for _, m := range matrix {
		if len(m.Samples) == 0 || m.Epoch+windowEpochs <= epoch {
			continue
		}
		a, b := types.LinkKey(m.NodeA, m.NodeB)
		l.measured[[2]string{a, b}] = types.RegionLink{RttUs: m.MedianRttUs, BandwidthMbps: m.MedianThroughputKbps / 1000,
			NodeA: a, NodeB: b, MeasuredEpoch: m.Epoch}
	}
	return l
}

// Measured is the number of fresh measured node pairs.
func (l Links) Measured() int { return len(l.measured) }

// ringLinks returns a ring's links in ring order as x/allocation's keeper builds them: for each hop, the
// fresh measured link between its two nodes (labelled with the hop's regions), else the region table's
// link between their regions; ErrUnknownLink when a hop has neither.
func (l Links) ringLinks(regionOf map[string]string, ring []string) ([]types.RegionLink, error) {
	hops := types.RingHops(regionOf, ring)
	out := make([]types.RegionLink, 0, len(hops))
	for i, h := range hops {
		x, y := types.LinkKey(ring[i], ring[(i+1)%len(ring)])
		if m, ok := l.measured[[2]string{x, y}]; ok {
			m.RegionA, m.RegionB = h[0], h[1]
			out = append(out, m)
			continue
		}
		r, ok := l.regions[h]
		if !ok {
			return nil, types.ErrUnknownLink.Wrapf("no measured link between %s and %s; their RTT cannot be checked", h[0], h[1])
		}
		out = append(out, r)
	}
	return out, nil
}

// chainFleet is the fleet as the chain sees it when it decides: the registered nodes and their capacity
// index (sim.Fleet, which reads them as the chain's store does) with the chain's links, so that the
// chain's own fallback allocator (types.Fallback) run over it picks and scores what the chain will.
type chainFleet struct {
	*sim.Fleet
	links Links
}

// RingLinks implements types.Fleet with the measured links where the chain has them.
func (f chainFleet) RingLinks(regionOf map[string]string, ring []string) ([]types.RegionLink, error) {
	return f.links.ringLinks(regionOf, ring)
}

var _ types.Fleet = chainFleet{}

// candidate builds and scores a placement as the chain scores a proposal of it (x/allocation's
// buildCandidate and ScoreCandidate): MsgProposeAllocation names only (node, GPUs), so each node's GPUs come
// from its first group, in the node's order, with the lease's model and memory and enough free GPUs; the
// ring is kept as given; its links are the chain's.
func (f chainFleet) candidate(params types.Params, lease leasetypes.Lease, nodes []types.ScoredNode, ring []string) (types.Candidate, error) {
	spec := lease.Spec
	c := types.Candidate{Nodes: make([]types.ScoredNode, 0, len(nodes))}
	regionOf := make(map[string]string, len(nodes))
	for _, sn := range nodes {
		n, err := f.Node(sn.NodeId)
		if err != nil {
			return c, err
		}
		if n.Status != types.NODE_STATUS_ACTIVE {
			return c, fmt.Errorf("node %s is %s; only ACTIVE nodes take leases", n.Id, n.Status)
		}
		group := -1
		for gi, g := range n.Gpus {
			if (spec.GpuModel == "" || g.Model == spec.GpuModel) && g.MemoryMib >= spec.MinGpuMemoryMib && g.Free() >= sn.Gpus {
				group = gi
				break
			}
		}
		if group < 0 {
			return c, fmt.Errorf("node %s has no group with %d free GPUs that fit the lease", n.Id, sn.Gpus)
		}
		g := n.Gpus[group]
		c.Nodes = append(c.Nodes, types.ScoredNode{
			NodeId: n.Id, Region: n.Region, GpuGroup: uint32(group), GpuModel: g.Model, GpuMemoryMib: g.MemoryMib,
			Gpus: sn.Gpus, FreeBefore: g.Free(), BandwidthMbps: n.BandwidthMbps,
			PricePerGpuHour: n.PricePerGpuHour.Amount, ReputationBps: n.ReputationBps,
		})
		regionOf[n.Id] = n.Region
	}
	if len(ring) == 0 {
		ring = make([]string, len(c.Nodes))
		for i, n := range c.Nodes {
			ring[i] = n.NodeId
		}
	}
	c.RingOrder = append([]string(nil), ring...)
	for _, id := range ring {
		if _, ok := regionOf[id]; !ok {
			return c, fmt.Errorf("ring_order names %s, which is not in the placement", id)
		}
	}
	links, err := f.RingLinks(regionOf, c.RingOrder)
	if err != nil {
		return c, err
	}
	c.Links = links
	c.Score, err = types.ScoreCandidate(spec, lease.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
	return c, err
}
