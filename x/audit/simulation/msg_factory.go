package simulation

import (
	"context"
	"hash/fnv"
	"slices"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"

	"github.com/consensus-nro/nro/x/audit/keeper"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// maxLeasesScanned bounds how many active leases the factory looks at to pick a reporting node.
const maxLeasesScanned = 64

// MsgSubmitTelemetryFactory sends the current epoch's report of a random node serving an active lease, signed
// by its agent. Most reports are honest: every GPU present, links to every peer of its leases with the
// pair's "true" RTT and throughput (the same at both ends, from a hash of the pair) within ±5% noise. Now
// and then a GPU is reported absent (a GPU_ABSENT fault when a lease holds it) or a link is inflated
// threefold (a deviation, and a dispute when it is most of the comparable links). Nodes not picked in an
// epoch are faulted by the missed-epoch sweep.
func MsgSubmitTelemetryFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgSubmitTelemetry] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgSubmitTelemetry) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		cur, err := k.Epoch.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		var leases []leasetypes.Lease
		err = k.LeaseKeeper().WalkActiveLeases(ctx, 0, func(l leasetypes.Lease) (bool, error) {
			leases = append(leases, l)
			return len(leases) >= maxLeasesScanned, nil
		})
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		if len(leases) == 0 {
			reporter.Skip("no active lease: no node owes telemetry")
			return nil, nil
		}
		r := testData.Rand()
		nodes := leases[r.Intn(len(leases))].NodeIDs()
		nodeID := nodes[r.Intn(len(nodes))]
		if has, err := k.Reports.Has(ctx, collections.Join(nodeID, cur.Number)); err != nil || has {
			reporter.Skip("node already reported for the epoch")
			return nil, nil
		}
		node, err := k.AllocationKeeper().GetNode(ctx, nodeID)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		if !testData.HasAccount(node.Agent) {
			reporter.Skip("node agent is not a simulation account")
			return nil, nil
		}
		agent := testData.GetAccount(reporter, node.Agent)
		active, err := k.LeaseKeeper().ActiveLeasesOfNode(ctx, nodeID)
		if err != nil || reporter.IsSkipped() {
			reporter.Skip("cannot read the node's leases")
			return nil, nil
		}

		msg := &types.MsgSubmitTelemetry{Agent: agent.AddressBech32, NodeId: nodeID, Epoch: cur.Number}
		absent := -1
		total := int(min(node.TotalGPUs(), params.MaxGpusPerReport))
		if total > 0 && r.Intn(20) == 0 {
			absent = r.Intn(total)
		}
		for i := range total {
			mem := uint64(16_384 + r.Intn(65_536))
			msg.Gpus = append(msg.Gpus, types.GpuMetrics{
				DeviceIndex:    uint32(i),
				Uuid:           "GPU-sim-" + nodeID,
				Model:          "NVIDIA " + node.Gpus[0].Model,
				Source:         types.SOURCE_NVML,
				Present:        i != absent,
				UtilizationPct: uint32(r.Intn(101)),
				MemoryUsedMib:  uint64(r.Int63n(int64(mem) + 1)),
				MemoryTotalMib: mem,
				PowerMw:        uint64(50_000 + r.Intn(650_000)),
				TemperatureC:   uint32(30 + r.Intn(60)),
				EccCorrected:   uint64(r.Intn(3)),
			})
		}
		for _, peer := range peersOf(active, nodeID) {
			if len(msg.Links) >= int(params.MaxLinksPerReport) {
				break
			}
			rtt, tput := trueLink(nodeID, peer)
			noise := func(v uint64) uint64 { return max(1, v*uint64(95+r.Intn(11))/100) }
			l := types.LinkMeasurement{PeerNodeId: peer, Source: types.SOURCE_PROBE, RttUs: noise(rtt), ThroughputKbps: noise(tput), Samples: uint32(1 + r.Intn(20))}
			switch r.Intn(15) {
			case 0:
				l.RttUs *= 3
			case 1:
				l = types.LinkMeasurement{PeerNodeId: peer, Source: types.SOURCE_FALLBACK, RttUs: rtt}
			}
			msg.Links = append(msg.Links, l)
		}
		return []simsx.SimAccount{agent}, msg
	}
}

// peersOf returns the other nodes of the leases, sorted and distinct.
func peersOf(leases []leasetypes.Lease, nodeID string) []string {
	seen := map[string]bool{nodeID: true}
	var out []string
	for _, l := range leases {
		for _, n := range l.NodeIDs() {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// trueLink is the simulated pair's RTT (100 us .. 100 ms) and throughput (100 Mbit/s .. 100 Gbit/s), the same
// whichever end asks.
func trueLink(a, b string) (rttUs, throughputKbps uint64) {
	a, b = types.LinkKey(a, b)
	h := fnv.New64a()
	_, _ = h.Write([]byte(a + "|" + b))
	sum := h.Sum64()
	return 100 + sum%100_000, 100_000 + (sum>>20)%100_000_000
}

// MsgUpdateParamsFactory proposes new random params through governance.
func MsgUpdateParamsFactory() simsx.SimMsgFactoryFn[*types.MsgUpdateParams] {
	return func(_ context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgUpdateParams) {
		return nil, &types.MsgUpdateParams{
			Authority: testData.ModuleAccountAddress(reporter, "gov"),
			Params:    RandomParams(testData.Rand().Intn),
		}
	}
}
