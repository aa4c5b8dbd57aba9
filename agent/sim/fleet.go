package sim

import (
	"cmp"
	"fmt"
	"math/rand"
	"slices"
	"strconv"
	"strings"

	sdkmath "cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// FleetConfig says which nodes the simulated market has.
type FleetConfig struct {
	// Regions the nodes are spread over, round-robin in this order; each node is an instance type of its
	// region's cloud. Every pair must have an RTT in the chain's region link table.
	Regions []string
	// Nodes is the number of provider nodes.
	Nodes int
	// GPUModels are the GPU models whose instance types the fleet draws from. The default is T4 alone:
	// Pollux measured its step times on T4 GPUs, and the datasets hold no step times for other models, so
	// with other models compute time would be the T4's whatever the model (prices would still differ).
	GPUModels []string
}

// DefaultRegions are three regions of each cloud — US east, US west and western Europe — so that the fleet has
// metro neighbours across clouds (aws:us-east-1 and azure:eastus are 1.9 ms apart), a continent between
// coasts, and an ocean between the US and Europe.
var DefaultRegions = []string{
	"aws:us-east-1", "aws:us-west-2", "aws:eu-west-1",
	"azure:eastus", "azure:westus", "azure:westeurope",
	"gcp:us-east1-b", "gcp:us-west1-a", "gcp:europe-west1-b",
}

// DefaultFleet is the fleet `nro-agent sim`, training and evaluation use unless told otherwise.
func DefaultFleet() FleetConfig {
	return FleetConfig{Regions: slices.Clone(DefaultRegions), Nodes: 90, GPUModels: []string{"T4"}}
}

// Fleet is the simulated market's nodes and links. It implements types.Fleet, so that the chain's fallback
// allocator reads it exactly as it reads the chain's store: the same capacity index order (price, free
// GPUs, "node/group"), the same node records, the same region link table.
type Fleet struct {
	nodes []types.Node
	// offers[i] is node i's instance type.
	offers []Offer
	byID   map[string]int
	// price[i] is node i's price per GPU-hour; byRegion lists node indexes per region, in Regions order.
	price    []uint64
	byRegion [][]int
	regions  []string
	// links is the region link table in force (degradations applied); base is the measured table.
	links, base map[[2]string]types.RegionLink
	// scopes is the capacity index: per scope, entries in ascending (price, free, ref) order.
	scopes map[string][]capEntry
	// refBandwidth is the median same-region link throughput of the table (Mbit/s), and selfRTT the
	// same-region RTT (µs): the network a placement inside one region has, which Pollux's measurements
	// on one cluster describe.
	refBandwidth, selfRTT uint64
	totalGPUs             uint32
}

type capEntry struct {
	price uint64
	free  uint32
	ref   string
	node  int
	group uint32
}

func compareEntries(a, b capEntry) int {
	return cmp.Or(cmp.Compare(a.price, b.price), cmp.Compare(a.free, b.free), strings.Compare(a.ref, b.ref))
}

// NewFleet builds a fleet: node i lies in Regions[i mod len(Regions)] and is an instance type of that
// region's cloud with one of the GPU models, drawn with the seed from the price table's offers.
func NewFleet(cfg FleetConfig, offers []Offer, links []types.RegionLink, seed int64) (*Fleet, error) {
	if len(cfg.Regions) == 0 || cfg.Nodes <= 0 {
		return nil, fmt.Errorf("fleet: %d regions and %d nodes; give at least one of each", len(cfg.Regions), cfg.Nodes)
	}
	models := cfg.GPUModels
	if len(models) == 0 {
		models = []string{"T4"}
	}
	f, err := newFleet(links)
	if err != nil {
		return nil, err
	}
	for i, a := range cfg.Regions {
		for _, b := range cfg.Regions[i:] {
			if _, ok := f.RTT(a, b); !ok {
				return nil, fmt.Errorf("fleet: no measured RTT between %s and %s; choose regions the Skyplane grid links", a, b)
			}
		}
	}
	// Offers per cloud, deduplicated (the price table lists some instance types twice).
	perCloud := map[string][]Offer{}
	seen := map[Offer]bool{}
	for _, o := range offers {
		if !slices.Contains(models, o.Model) || seen[o] {
			continue
		}
		seen[o] = true
		perCloud[o.Cloud] = append(perCloud[o.Cloud], o)
	}
	r := rand.New(rand.NewSource(seed))
	for i := range cfg.Nodes {
		region := cfg.Regions[i%len(cfg.Regions)]
		cloud, _, _ := strings.Cut(region, ":")
		choices := perCloud[cloud]
		if len(choices) == 0 {
			return nil, fmt.Errorf("fleet: the price table has no %s instance with GPU model %s for region %s", cloud, strings.Join(models, "/"), region)
		}
		o := choices[r.Intn(len(choices))]
		bw := uint64(0)
		if l, ok := f.link(region, region); ok {
			bw = l.BandwidthMbps
		}
		if bw == 0 {
			bw = f.refBandwidth
		}
		n := types.Node{
			Id: fmt.Sprintf("node-%04d", i), Region: region,
			Gpus:            []types.GpuGroup{{Model: o.Model, Count: o.GPUs, MemoryMib: o.MemoryMiB}},
			BandwidthMbps:   bw,
			PricePerGpuHour: sdk.NewCoin(types.DefaultDenom, sdkmath.NewIntFromUint64(o.PricePerGPUHour)),
			Status:          types.NODE_STATUS_ACTIVE,
			ReputationBps:   types.NeutralReputationBps,
		}
		f.add(n, o)
	}
	return f, nil
}

// NewFleetFromNodes builds a fleet of the chain's registered nodes as they are (ids, GPU groups and their
// reservations, prices, bandwidth, reputation, status) and the chain's region link table: what an agent
// reads from the chain to place a lease. Only ACTIVE nodes are in the capacity index, as on the chain.
// Nodes are kept in id order (the chain's registration index order).
func NewFleetFromNodes(nodes []types.Node, links []types.RegionLink) (*Fleet, error) {
	f, err := newFleet(links)
	if err != nil {
		return nil, err
	}
	sorted := slices.Clone(nodes)
	slices.SortFunc(sorted, func(a, b types.Node) int { return strings.Compare(a.Id, b.Id) })
	for _, n := range sorted {
		if _, dup := f.byID[n.Id]; dup {
			return nil, fmt.Errorf("fleet: node %s listed twice", n.Id)
		}
		if !n.PricePerGpuHour.Amount.IsUint64() {
			return nil, fmt.Errorf("fleet: node %s: price %s does not fit 64 bits", n.Id, n.PricePerGpuHour)
		}
		cloud, _, _ := strings.Cut(n.Region, ":")
		o := Offer{Cloud: cloud, PricePerGPUHour: n.PricePerGpuHour.Amount.Uint64()}
		if len(n.Gpus) > 0 {
			o.Model, o.MemoryMiB = n.Gpus[0].Model, n.Gpus[0].MemoryMib
		}
		for _, g := range n.Gpus {
			o.GPUs += g.Count
		}
		n.Gpus = slices.Clone(n.Gpus) // the fleet reserves on its own copy
		f.add(n, o)
	}
	return f, nil
}

// newFleet is an empty fleet over a region link table.
func newFleet(links []types.RegionLink) (*Fleet, error) {
	f := &Fleet{byID: map[string]int{}, links: map[[2]string]types.RegionLink{}, base: map[[2]string]types.RegionLink{},
		scopes: map[string][]capEntry{}}
	var selfBW []uint64
	for _, l := range links {
		a, b := types.LinkKey(l.RegionA, l.RegionB)
		f.base[[2]string{a, b}] = l
		f.links[[2]string{a, b}] = l
		if a == b && l.BandwidthMbps > 0 {
			selfBW = append(selfBW, l.BandwidthMbps)
			if f.selfRTT == 0 || l.RttUs < f.selfRTT {
				f.selfRTT = l.RttUs
			}
		}
	}
	if len(selfBW) == 0 {
		return nil, fmt.Errorf("fleet: the link table has no same-region link with a measured throughput")
	}
	slices.Sort(selfBW)
	f.refBandwidth = selfBW[(len(selfBW)-1)/2]
	return f, nil
}

// add appends a node (its instance type o) and indexes its capacity.
func (f *Fleet) add(n types.Node, o Offer) {
	f.byID[n.Id] = len(f.nodes)
	ri := slices.Index(f.regions, n.Region)
	if ri < 0 {
		ri = len(f.regions)
		f.regions = append(f.regions, n.Region)
		f.byRegion = append(f.byRegion, nil)
	}
	f.byRegion[ri] = append(f.byRegion[ri], len(f.nodes))
	f.price = append(f.price, n.PricePerGpuHour.Amount.Uint64())
	f.nodes = append(f.nodes, n)
	f.offers = append(f.offers, o)
	for _, g := range n.Gpus {
		f.totalGPUs += g.Count
	}
	f.index(len(f.nodes)-1, true)
}

// Nodes returns the fleet's nodes (the fleet's own records: do not modify).
func (f *Fleet) Nodes() []types.Node { return f.nodes }

// RefBandwidthMbps is the in-region throughput placements inside one region sync at (the median
// same-region link of the table).
func (f *Fleet) RefBandwidthMbps() uint64 { return f.refBandwidth }

// TotalGPUs is the number of GPUs of all nodes, up or down.
func (f *Fleet) TotalGPUs() uint32 { return f.totalGPUs }

// FreeGPUs counts the free GPUs of ACTIVE nodes.
func (f *Fleet) FreeGPUs() uint32 {
	var free uint32
	for _, n := range f.nodes {
		if n.Status == types.NODE_STATUS_ACTIVE {
			for _, g := range n.Gpus {
				free += g.Free()
			}
		}
	}
	return free
}

// Regions returns the regions the fleet's nodes are in, in first-node order.
func (f *Fleet) Regions() []string { return slices.Clone(f.regions) }

// index adds (add) or removes a node's capacity entries, as the chain's capacity index does on every
// node write: one entry per scope for each group with free GPUs on an ACTIVE node.
func (f *Fleet) index(i int, add bool) {
	n := &f.nodes[i]
	if n.Status != types.NODE_STATUS_ACTIVE {
		return
	}
	for gi, g := range n.Gpus {
		if g.Free() == 0 {
			continue
		}
		e := capEntry{price: n.PricePerGpuHour.Amount.Uint64(), free: g.Free(), ref: n.Id + "/" + strconv.Itoa(gi), node: i, group: uint32(gi)}
		for _, s := range types.GroupScopes(n.Region, g.Model) {
			list := f.scopes[s]
			at, found := slices.BinarySearchFunc(list, e, compareEntries)
			switch {
			case add && !found:
				f.scopes[s] = slices.Insert(list, at, e)
			case !add && found:
				f.scopes[s] = slices.Delete(list, at, at+1)
			}
		}
	}
}

// reserve takes (gpus > 0) or gives back (gpus < 0) GPUs of one group.
func (f *Fleet) reserve(i int, group uint32, gpus int64) error {
	g := f.nodes[i].Gpus[group]
	after := int64(g.Reserved) + gpus
	if after < 0 || after > int64(g.Count) {
		return fmt.Errorf("node %s group %d: %d of %d GPUs reserved, cannot change by %d", f.nodes[i].Id, group, g.Reserved, g.Count, gpus)
	}
	f.index(i, false)
	f.nodes[i].Gpus[group].Reserved = uint32(after)
	f.index(i, true)
	return nil
}

// setStatus marks a node failed (not ACTIVE: it leaves the capacity index) or repaired.
func (f *Fleet) setStatus(i int, s types.NodeStatus) {
	f.index(i, false)
	f.nodes[i].Status = s
	f.index(i, true)
}

// WalkCapacity implements types.Fleet.
func (f *Fleet) WalkCapacity(scope string, maxPrice uint64, limit int, fn func(g *types.CapacityGroup) (bool, error)) (int, error) {
	read := 0
	var g types.CapacityGroup
	for _, e := range f.scopes[scope] {
		if read >= limit {
			break
		}
		read++
		if e.price > maxPrice {
			return read, nil
		}
		g = types.NewCapacityGroup(&f.nodes[e.node], e.group)
		stop, err := fn(&g)
		if err != nil || stop {
			return read, err
		}
	}
	return read, nil
}

// Node implements types.Fleet.
func (f *Fleet) Node(id string) (*types.Node, error) {
	i, ok := f.byID[id]
	if !ok {
		return nil, types.ErrNodeNotFound.Wrapf("no node with id %q", id)
	}
	return &f.nodes[i], nil
}

func (f *Fleet) link(a, b string) (types.RegionLink, bool) {
	a, b = types.LinkKey(a, b)
	l, ok := f.links[[2]string{a, b}]
	return l, ok
}

// RTT implements types.Fleet.
func (f *Fleet) RTT(a, b string) (uint64, bool) {
	l, ok := f.link(a, b)
	return l.RttUs, ok
}

// RingLinks implements types.Fleet: the simulator has no per-node measurements, so every hop is the region
// table's link (with any degradation in force, as the chain's link matrix would report it).
func (f *Fleet) RingLinks(regionOf map[string]string, ring []string) ([]types.RegionLink, error) {
	hops := types.RingHops(regionOf, ring)
	out := make([]types.RegionLink, 0, len(hops))
	for _, h := range hops {
		l, ok := f.link(h[0], h[1])
		if !ok {
			return nil, types.ErrUnknownLink.Wrapf("no measured link between %s and %s; their RTT cannot be checked", h[0], h[1])
		}
		out = append(out, l)
	}
	return out, nil
}

// Take is a number of GPUs from one node's group.
type Take struct {
	Node  string
	Group uint32
	GPUs  uint32
}

// Candidate builds and scores a placement as the chain scores a proposal: the nodes' recorded inputs, the
// ring (nil: the one that minimises the bottleneck link, types.BestRing), its links, every hard
// constraint of the lease (types.CheckPlacement through types.ScoreCandidate), and the cost. An error says
// which constraint fails.
func (f *Fleet) Candidate(lease leasetypes.Lease, params types.Params, takes []Take, ring []string) (types.Candidate, error) {
	c := types.Candidate{Nodes: make([]types.ScoredNode, 0, len(takes))}
	regionOf := make(map[string]string, len(takes))
	for _, t := range takes {
		n, err := f.Node(t.Node)
		if err != nil {
			return c, err
		}
		if n.Status != types.NODE_STATUS_ACTIVE {
			return c, fmt.Errorf("node %s is down", n.Id)
		}
		if int(t.Group) >= len(n.Gpus) {
			return c, fmt.Errorf("node %s has no GPU group %d", n.Id, t.Group)
		}
		g := n.Gpus[t.Group]
		c.Nodes = append(c.Nodes, types.ScoredNode{
			NodeId: n.Id, Region: n.Region, GpuGroup: t.Group, GpuModel: g.Model, GpuMemoryMib: g.MemoryMib,
			Gpus: t.GPUs, FreeBefore: g.Free(), BandwidthMbps: n.BandwidthMbps,
			PricePerGpuHour: n.PricePerGpuHour.Amount, ReputationBps: n.ReputationBps,
		})
		regionOf[n.Id] = n.Region
	}
	c.RingOrder = ring
	if c.RingOrder == nil {
		c.RingOrder = types.BestRing(c.Nodes, f.RTT)
	}
	links, err := f.RingLinks(regionOf, c.RingOrder)
	if err != nil {
		return c, err
	}
	c.Links = links
	c.Score, err = types.ScoreCandidate(lease.Spec, lease.BlocksPerHour, params.Weights, c, params.MaxPlacementNodes)
	return c, err
}
