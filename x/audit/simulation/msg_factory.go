package simulation

import (
	"context"
	"hash/fnv"
	"slices"

	"cosmossdk.io/collections"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

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

// MsgChallengeTelemetryFactory challenges a probe link of a recent report with the pair's true values (see
// trueLink) as counter-evidence, bonding min_challenge_bond from a random account: a challenge of an inflated
// link is upheld, one of an honest link rejected (unless the committee falls short and it goes void). It is
// tried on a cache of the state first, so that only challenges the chain accepts are sent.
func MsgChallengeTelemetryFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgChallengeTelemetry] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgChallengeTelemetry) {
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
		var reports []types.TelemetryReport
		err = k.Reports.Indexes.Epoch.Walk(ctx, collections.NewPrefixedPairRange[uint64, string](cur.Number), func(_ uint64, node string) (bool, error) {
			rep, err := k.Reports.Get(ctx, collections.Join(node, cur.Number))
			if err != nil {
				return true, err
			}
			if slices.ContainsFunc(rep.Links, func(l types.LinkMeasurement) bool { return l.Source == types.SOURCE_PROBE }) {
				reports = append(reports, rep)
			}
			return len(reports) >= maxLeasesScanned, nil
		})
		if err != nil || len(reports) == 0 {
			reporter.Skip("no report with a probe link in the current epoch")
			return nil, nil
		}
		r := testData.Rand()
		rep := reports[r.Intn(len(reports))]
		var probes []types.LinkMeasurement
		for _, l := range rep.Links {
			if l.Source == types.SOURCE_PROBE {
				probes = append(probes, l)
			}
		}
		link := probes[r.Intn(len(probes))]
		challenger := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(params.MinChallengeBond))
		if reporter.IsSkipped() {
			return nil, nil
		}
		if !challenger.LiquidBalance().BlockAmount(params.MinChallengeBond) { // the fee comes from the rest
			reporter.Skip("challenger cannot bond min_challenge_bond")
			return nil, nil
		}
		rtt, tput := trueLink(rep.NodeId, link.PeerNodeId)
		msg := &types.MsgChallengeTelemetry{
			Challenger: challenger.AddressBech32, NodeId: rep.NodeId, Epoch: rep.Epoch, PeerNodeId: link.PeerNodeId,
			RttUs: rtt, ThroughputKbps: tput, Bond: params.MinChallengeBond,
		}
		cache, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
		if _, err := k.ChallengeTelemetry(cache, msg); err != nil {
			reporter.Skip("challenge refused: " + err.Error())
			return nil, nil
		}
		return []simsx.SimAccount{challenger}, msg
	}
}

// MsgAnswerChallengeFactory answers an open challenge for a committee member that has not answered, signed by
// its agent, with the challenged pair's true values within ±5%: the committee measures from the peer's side.
func MsgAnswerChallengeFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgAnswerChallenge] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgAnswerChallenge) {
		var open []types.Challenge
		err := k.ChallengeDeadlines.Walk(ctx, nil, func(key collections.Pair[int64, uint64]) (bool, error) {
			c, err := k.Challenges.Get(ctx, key.K2())
			if err != nil {
				return true, err
			}
			open = append(open, c)
			return len(open) >= maxLeasesScanned, nil
		})
		if err != nil || len(open) == 0 {
			reporter.Skip("no open challenge")
			return nil, nil
		}
		r := testData.Rand()
		c := open[r.Intn(len(open))]
		var waiting []string
		for _, m := range c.Committee {
			if !slices.ContainsFunc(c.Answers, func(a types.ChallengeAnswer) bool { return a.NodeId == m }) {
				waiting = append(waiting, m)
			}
		}
		if len(waiting) == 0 {
			reporter.Skip("every member answered")
			return nil, nil
		}
		member := waiting[r.Intn(len(waiting))]
		node, err := k.AllocationKeeper().GetNode(ctx, member)
		if err != nil || !testData.HasAccount(node.Agent) {
			reporter.Skip("member's agent is not a simulation account")
			return nil, nil
		}
		agent := testData.GetAccount(reporter, node.Agent)
		rtt, tput := trueLink(c.NodeId, c.PeerNodeId)
		noise := func(v uint64) uint64 { return max(1, v*uint64(95+r.Intn(11))/100) }
		msg := &types.MsgAnswerChallenge{Agent: agent.AddressBech32, ChallengeId: c.Id, NodeId: member, RttUs: noise(rtt), ThroughputKbps: noise(tput)}
		cache, _ := sdk.UnwrapSDKContext(ctx).CacheContext()
		if _, err := k.AnswerChallenge(cache, msg); err != nil {
			reporter.Skip("answer refused: " + err.Error())
			return nil, nil
		}
		return []simsx.SimAccount{agent}, msg
	}
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
