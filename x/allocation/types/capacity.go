package types

import sdkmath "cosmossdk.io/math"

// CapacityGroup is one GPU group with free GPUs on an ACTIVE node, as the capacity index lists it: the
// index key (price, free GPUs, node and group) and its CapacityEntry value. It holds everything the
// fallback allocator filters, orders and scores a group on.
type CapacityGroup struct {
	NodeID string
	Group  uint32
	// Price is the node's price per GPU-hour (bounded by MaxPriceAmount, so it fits a uint64).
	Price uint64
	// Free is how many GPUs of the group no lease holds.
	Free  uint32
	Entry CapacityEntry
}

// CapacityGroupsOf returns the capacity index groups of a node, in group order: one per group with free GPUs
// if the node is ACTIVE, none otherwise.
func CapacityGroupsOf(n *Node) []CapacityGroup {
	if n.Status != NODE_STATUS_ACTIVE {
		return nil
	}
	var out []CapacityGroup
	for i, g := range n.Gpus {
		if g.Free() == 0 {
			continue
		}
		out = append(out, NewCapacityGroup(n, uint32(i)))
	}
	return out
}

// NewCapacityGroup is group i of node n as the capacity index lists it (whatever the node's status).
func NewCapacityGroup(n *Node, i uint32) CapacityGroup {
	g := n.Gpus[i]
	return CapacityGroup{NodeID: n.Id, Group: i, Price: n.PricePerGpuHour.Amount.Uint64(), Free: g.Free(), Entry: CapacityEntry{
		Region: n.Region, GpuModel: g.Model, GpuMemoryMib: g.MemoryMib, BandwidthMbps: n.BandwidthMbps,
		ReputationBps: n.ReputationBps,
	}}
}

// scoredNode is the ScoredNode of a placement taking gpus GPUs from the group.
func (g *CapacityGroup) scoredNode(gpus uint32) ScoredNode {
	return ScoredNode{
		NodeId:          g.NodeID,
		Region:          g.Entry.Region,
		GpuGroup:        g.Group,
		GpuModel:        g.Entry.GpuModel,
		GpuMemoryMib:    g.Entry.GpuMemoryMib,
		Gpus:            gpus,
		FreeBefore:      g.Free,
		BandwidthMbps:   g.Entry.BandwidthMbps,
		PricePerGpuHour: sdkmath.NewIntFromUint64(g.Price),
		ReputationBps:   g.Entry.ReputationBps,
	}
}
