package keeper

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"

	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
	"github.com/consensus-nro/nro/x/audit/types"
	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

func isNodeNotFound(err error) bool { return errors.Is(err, allocationtypes.ErrNodeNotFound) }

// SubmitTelemetry checks a node's telemetry report for an epoch and stores it; then it scores the report:
//
//   - GPU health: a GPU group of the node with fewer present devices than its active leases hold is a
//     GPU_ABSENT fault;
//   - links: each probe link is compared with the other end's recent reports of it (a deviation beyond
//     tolerance_bps); the report is disputed when more than half of its comparable links deviate; then the
//     link's aggregate takes the new sample and its medians are recomputed;
//   - reputation: a fault or a dispute lowers it, a clean report raises it.
//
// Every check runs before the first write, so a refused report changes no state and emits no event. Gas:
// gas_per_report_entry per GPU and link entry, on top of the store reads and writes, which also grow with
// the report's size.
func (k Keeper) SubmitTelemetry(ctx context.Context, msg *types.MsgSubmitTelemetry) (*types.MsgSubmitTelemetryResponse, error) {
	if err := msg.ValidateBasic(); err != nil {
		return nil, err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	h := sdkCtx.BlockHeight()
	p, err := k.Params.Get(ctx)
	if err != nil {
		return nil, err
	}
	if len(msg.Gpus) > int(p.MaxGpusPerReport) || len(msg.Links) > int(p.MaxLinksPerReport) {
		return nil, errorsmod.Wrapf(types.ErrReportTooLarge, "%d gpus and %d links: a report holds at most %d gpus (max_gpus_per_report) and %d links (max_links_per_report)",
			len(msg.Gpus), len(msg.Links), p.MaxGpusPerReport, p.MaxLinksPerReport)
	}
	sdkCtx.GasMeter().ConsumeGas(p.GasPerReportEntry*uint64(len(msg.Gpus)+len(msg.Links)), "x/audit telemetry entries")

	cur, err := k.Epoch.Get(ctx)
	if err != nil {
		return nil, err
	}
	if err := checkReportEpoch(msg.Epoch, cur, p, h); err != nil {
		return nil, err
	}
	agent, err := k.canonicalAddress(msg.Agent)
	if err != nil {
		return nil, errorsmod.Wrapf(types.ErrInvalidAddress, "agent %q: %v", msg.Agent, err)
	}
	node, err := k.alloc.GetNode(ctx, msg.NodeId)
	if err != nil {
		if isNodeNotFound(err) {
			return nil, errorsmod.Wrapf(types.ErrUnknownNode, "no node %q is registered (nrod q allocation nodes)", msg.NodeId)
		}
		return nil, err
	}
	if node.Agent != agent {
		return nil, errorsmod.Wrapf(types.ErrNotNodeAgent, "%s signed for node %s, whose registered agent is %s; the node's agent signs its telemetry",
			agent, node.Id, node.Agent)
	}
	if prev, err := k.Reports.Get(ctx, collections.Join(msg.NodeId, msg.Epoch)); err == nil {
		return nil, errorsmod.Wrapf(types.ErrDuplicateReport, "node %s reported for epoch %d at height %d; one report per node per epoch (the current epoch is %d)",
			msg.NodeId, msg.Epoch, prev.Height, cur.Number)
	} else if !errors.Is(err, collections.ErrNotFound) {
		return nil, err
	}
	leases, err := k.leases.ActiveLeasesOfNode(ctx, msg.NodeId)
	if err != nil {
		return nil, err
	}
	if node.Status != allocationtypes.NODE_STATUS_ACTIVE && len(leases) == 0 {
		return nil, errorsmod.Wrapf(types.ErrNodeNotReporting, "node %s is %s and runs no active lease; only ACTIVE nodes and nodes serving leases report",
			node.Id, node.Status)
	}
	total := node.TotalGPUs()
	for i, g := range msg.Gpus {
		if g.DeviceIndex >= total {
			return nil, errorsmod.Wrapf(types.ErrInvalidGPUMetrics, "gpus[%d]: device_index %d: node %s has %d registered GPUs, devices 0..%d",
				i, g.DeviceIndex, node.Id, total, total-1)
		}
	}
	peers := leasePeers(leases, node.Id)
	for i, l := range msg.Links {
		if _, ok := slices.BinarySearch(peers, l.PeerNodeId); !ok {
			return nil, errorsmod.Wrapf(types.ErrLinkNotLeased, "links[%d]: node %s shares no active lease with %s; report links to the nodes of its active leases only (%s)",
				i, node.Id, l.PeerNodeId, peerList(peers))
		}
	}

	// Accepted. Score it against the state before it, then write.
	absent := absentGPUs(node, msg.Epoch, leases, msg.Gpus)
	aggs, err := k.probedLinks(ctx, msg.NodeId, msg.Links)
	if err != nil {
		return nil, err
	}
	compared, deviations := compareWithPeers(p, msg.Epoch, msg.Links, aggs)
	disputed := 2*len(deviations) > int(compared)

	report := types.TelemetryReport{
		NodeId:          msg.NodeId,
		Epoch:           msg.Epoch,
		Agent:           agent,
		Height:          h,
		Gpus:            msg.Gpus,
		Links:           msg.Links,
		ComparableLinks: compared,
		Deviations:      deviations,
		Disputed:        disputed,
	}
	overLimit := false
	if absent != nil {
		f, over, err := k.recordFault(ctx, p, *absent)
		if err != nil {
			return nil, err
		}
		report.FaultId = f.Id
		overLimit = over
	}
	if disputed && p.DisputeFaultMinLinks > 0 && compared >= p.DisputeFaultMinLinks {
		f, over, err := k.recordFault(ctx, p, types.Fault{
			NodeId: node.Id,
			Epoch:  msg.Epoch,
			Kind:   types.FAULT_KIND_DISPUTED,
			Detail: fmt.Sprintf("%d of %d comparable links deviate from the peers' view by more than %d bps", len(deviations), compared, p.ToleranceBps),
		})
		if err != nil {
			return nil, err
		}
		report.DisputeFaultId = f.Id
		overLimit = overLimit || over
	}
	if err := k.Reports.Set(ctx, collections.Join(report.NodeId, report.Epoch), report); err != nil {
		return nil, err
	}
	if err := k.aggregateLinks(ctx, p, report, aggs); err != nil {
		return nil, err
	}

	clean := absent == nil && !disputed
	if err := k.updateStats(ctx, node.Id, func(s *types.NodeAuditStats) {
		s.Reports++
		s.LastReportEpoch = max(s.LastReportEpoch, report.Epoch)
		if disputed {
			s.DisputedReports++
		}
		if clean {
			s.CleanReports++
		}
	}); err != nil {
		return nil, err
	}
	if disputed {
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventReportDisputed{
			NodeId: node.Id, Epoch: report.Epoch, ComparableLinks: compared, Deviations: deviations,
		}); err != nil {
			return nil, err
		}
		if _, err := k.adjustReputation(ctx, node.Id, report.Epoch, -int64(p.ReputationDisputePenaltyBps), types.REPUTATION_REASON_DISPUTE); err != nil {
			return nil, err
		}
	}
	if clean {
		if _, err := k.adjustReputation(ctx, node.Id, report.Epoch, int64(p.ReputationCleanGainBps), types.REPUTATION_REASON_CLEAN_REPORT); err != nil {
			return nil, err
		}
	}
	var slashID uint64
	if overLimit {
		s, err := k.slash(ctx, p, node.Id, report.Epoch)
		if err != nil {
			return nil, err
		}
		if s != nil {
			slashID = s.Id
		}
	}
	if slashID == 0 {
		// A slash has moved the node's leases already.
		if err := k.moveDegradedLeases(ctx, p, cur, report, leases); err != nil {
			return nil, err
		}
	}
	after, err := k.alloc.GetNode(ctx, node.Id)
	if err != nil {
		return nil, err
	}
	if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventTelemetryAccepted{
		NodeId:   node.Id,
		Epoch:    report.Epoch,
		Agent:    agent,
		Gpus:     uint32(len(report.Gpus)),
		Links:    uint32(len(report.Links)),
		Disputed: disputed,
		FaultId:  report.FaultId,
	}); err != nil {
		return nil, err
	}
	return &types.MsgSubmitTelemetryResponse{
		Disputed: disputed, FaultId: report.FaultId, DisputeFaultId: report.DisputeFaultId,
		ReputationBps: after.ReputationBps, SlashId: slashID,
	}, nil
}

// canonicalAddress returns the canonical (lower-case) bech32 form of an account address, as x/allocation
// stores agents.
func (k Keeper) canonicalAddress(addr string) (string, error) {
	codec := k.alloc.AddressCodec()
	bz, err := codec.StringToBytes(addr)
	if err != nil {
		return "", err
	}
	return codec.BytesToString(bz)
}

// leasePeers returns the sorted, distinct nodes that share an active lease with nodeID.
func leasePeers(leases []leasetypes.Lease, nodeID string) []string {
	var peers []string
	for _, l := range leases {
		for _, n := range l.NodeIDs() {
			if n != nodeID {
				peers = append(peers, n)
			}
		}
	}
	slices.Sort(peers)
	return slices.Compact(peers)
}

func peerList(peers []string) string {
	if len(peers) == 0 {
		return "it has none: send no links"
	}
	return "its peers: " + strings.Join(peers, ", ")
}

// absentGPUs returns a GPU_ABSENT fault (without id and height) when, in some GPU group of the node, the
// report shows fewer present devices than the node's active leases hold in that group; nil otherwise. The
// node's registered groups number its devices in order (group 0 holds devices 0..count-1, and so on); a
// device the report leaves out counts as absent.
func absentGPUs(node allocationtypes.Node, epoch uint64, leases []leasetypes.Lease, gpus []types.GpuMetrics) *types.Fault {
	required := make([]uint32, len(node.Gpus))
	for _, l := range leases {
		for _, ln := range l.Nodes {
			if ln.NodeId == node.Id && int(ln.GpuGroup) < len(required) {
				required[ln.GpuGroup] += ln.Gpus
			}
		}
	}
	present := make([]uint32, len(node.Gpus))
	for _, g := range gpus {
		if !g.Present {
			continue
		}
		var first uint32
		for i, grp := range node.Gpus {
			if g.DeviceIndex < first+grp.Count {
				present[i]++
				break
			}
			first += grp.Count
		}
	}
	var (
		f     *types.Fault
		notes []string
	)
	for i := range node.Gpus {
		if present[i] >= required[i] {
			continue
		}
		if f == nil {
			f = &types.Fault{NodeId: node.Id, Epoch: epoch, Kind: types.FAULT_KIND_GPU_ABSENT}
		}
		f.GpusRequired += required[i]
		f.GpusPresent += present[i]
		notes = append(notes, fmt.Sprintf("group %d (%s): %d of the %d GPUs active leases hold are present", i, node.Gpus[i].Model, present[i], required[i]))
	}
	if f != nil {
		f.Detail = strings.Join(notes, "; ")
	}
	return f
}

// probedLinks loads the stored aggregates of the report's probe links, in report order (nil where the link
// has none yet).
func (k Keeper) probedLinks(ctx context.Context, nodeID string, links []types.LinkMeasurement) ([]*types.LinkAggregate, error) {
	out := make([]*types.LinkAggregate, len(links))
	for i, l := range links {
		if l.Source != types.SOURCE_PROBE {
			continue
		}
		a, b := types.LinkKey(nodeID, l.PeerNodeId)
		agg, err := k.Links.Get(ctx, collections.Join(a, b))
		switch {
		case err == nil:
			out[i] = &agg
		case !errors.Is(err, collections.ErrNotFound):
			return nil, err
		}
	}
	return out, nil
}

// compareWithPeers compares each probe link of a report with the other end's view: the lower medians of the
// peer's own reports of the link within link_report_window_epochs of the report's epoch. A link whose RTT or
// throughput is beyond tolerance_bps of the peer's median deviates. Links the peer has not reported recently
// are not comparable. Fallback links are never compared.
func compareWithPeers(p types.Params, epoch uint64, links []types.LinkMeasurement, aggs []*types.LinkAggregate) (uint32, []types.LinkDeviation) {
	var (
		compared   uint32
		deviations []types.LinkDeviation
	)
	for i, l := range links {
		if l.Source != types.SOURCE_PROBE || aggs[i] == nil {
			continue
		}
		var peerView []types.LinkSample
		for _, s := range aggs[i].Samples {
			if s.Reporter == l.PeerNodeId && s.Epoch+p.LinkReportWindowEpochs > epoch {
				peerView = append(peerView, s)
			}
		}
		if len(peerView) == 0 {
			continue
		}
		compared++
		rtt, tput := types.Medians(peerView)
		if types.BeyondTolerance(l.RttUs, rtt, p.ToleranceBps) || types.BeyondTolerance(l.ThroughputKbps, tput, p.ToleranceBps) {
			deviations = append(deviations, types.LinkDeviation{
				PeerNodeId:               l.PeerNodeId,
				RttUs:                    l.RttUs,
				PeerMedianRttUs:          rtt,
				ThroughputKbps:           l.ThroughputKbps,
				PeerMedianThroughputKbps: tput,
				RttDeviationBps:          types.DeviationBps(l.RttUs, rtt),
				ThroughputDeviationBps:   types.DeviationBps(l.ThroughputKbps, tput),
			})
		}
	}
	return compared, deviations
}

// moveDegradedLeases moves, after a report's links are aggregated, each of the node's active leases on which
// a ring link through the node has broken the lease's max_rtt_ms or min_bandwidth_mbps in each of the last
// degraded_epochs epochs (ending with the report's): in each, the lower medians of that epoch's samples from
// both ends are beyond the limit. Only epochs the lease ran through count: the first of them must have
// started (at the current epoch length) at or after the lease's activation. The lease goes back to
// x/allocation (x/lease ReallocateLease, reason LINK_DEGRADED, both ends as triggers) after
// EventLinkDegraded. The work is bounded by the report's links.
func (k Keeper) moveDegradedLeases(ctx context.Context, p types.Params, cur types.EpochInfo, r types.TelemetryReport, leases []leasetypes.Lease) error {
	d := p.DegradedEpochs
	if d == 0 || r.Epoch < d || r.Epoch > cur.Number {
		return nil
	}
	first := r.Epoch - d + 1
	firstStart := cur.StartHeight - int64((cur.Number-first)*p.EpochBlocks)
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for _, l := range leases {
		spec := l.Spec
		if l.ActivatedHeight > firstStart || (spec.MaxRttMs == 0 && spec.MinBandwidthMbps == 0) {
			continue
		}
		for _, peer := range ringNeighbours(l.RingOrder, r.NodeId) {
			a, b := types.LinkKey(r.NodeId, peer)
			agg, err := k.Links.Get(ctx, collections.Join(a, b))
			if errors.Is(err, collections.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			rtt, tput, degraded := types.DegradedThrough(agg.Samples, first, r.Epoch, uint64(spec.MaxRttMs)*1000, spec.MinBandwidthMbps*1000)
			if !degraded {
				continue
			}
			if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventLinkDegraded{
				LeaseId: l.Id, NodeA: a, NodeB: b, Epoch: r.Epoch, RttUs: rtt, ThroughputKbps: tput,
				MaxRttMs: spec.MaxRttMs, MinBandwidthMbps: spec.MinBandwidthMbps, Epochs: d,
			}); err != nil {
				return err
			}
			if _, _, err := k.leases.ReallocateLease(ctx, l.Id, leasetypes.REALLOCATION_REASON_LINK_DEGRADED, []string{a, b}, sdkCtx.BlockHeight()); err != nil {
				return errorsmod.Wrapf(err, "move lease %d off the degraded link %s-%s", l.Id, a, b)
			}
			break
		}
	}
	return nil
}

// ringNeighbours are the nodes next to id around a ring, sorted and without id.
func ringNeighbours(ring []string, id string) []string {
	i := slices.Index(ring, id)
	if i < 0 || len(ring) < 2 {
		return nil
	}
	out := []string{ring[(i+1)%len(ring)]}
	if prev := ring[(i+len(ring)-1)%len(ring)]; prev != out[0] {
		out = append(out, prev)
	}
	slices.Sort(out)
	return out
}

// aggregateLinks adds the report's probe links to the link matrix: each link keeps, from both ends, the
// samples within link_report_window_epochs of its newest sample, and its medians are recomputed over them.
func (k Keeper) aggregateLinks(ctx context.Context, p types.Params, r types.TelemetryReport, aggs []*types.LinkAggregate) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	for i, l := range r.Links {
		if l.Source != types.SOURCE_PROBE {
			continue
		}
		a, b := types.LinkKey(r.NodeId, l.PeerNodeId)
		agg := types.LinkAggregate{NodeA: a, NodeB: b}
		if aggs[i] != nil {
			agg = *aggs[i]
		}
		newest := max(agg.Epoch, r.Epoch)
		if r.Epoch+p.LinkReportWindowEpochs <= newest {
			continue // the other end has moved on: this sample is already outside the window
		}
		kept := make([]types.LinkSample, 0, len(agg.Samples)+1)
		for _, s := range agg.Samples {
			if s.Epoch+p.LinkReportWindowEpochs > newest && (s.Reporter != r.NodeId || s.Epoch != r.Epoch) {
				kept = append(kept, s)
			}
		}
		kept = append(kept, types.LinkSample{
			Reporter: r.NodeId, Epoch: r.Epoch, RttUs: l.RttUs, ThroughputKbps: l.ThroughputKbps, Samples: l.Samples,
		})
		types.SortLinkSamples(kept)
		agg.Samples = kept
		agg.MedianRttUs, agg.MedianThroughputKbps = types.Medians(kept)
		agg.Epoch = newest
		agg.UpdatedHeight = r.Height
		if err := k.Links.Set(ctx, collections.Join(a, b), agg); err != nil {
			return err
		}
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventLinkAggregated{
			NodeA:                a,
			NodeB:                b,
			Reporter:             r.NodeId,
			Epoch:                r.Epoch,
			MedianRttUs:          agg.MedianRttUs,
			MedianThroughputKbps: agg.MedianThroughputKbps,
			Samples:              uint32(len(kept)),
		}); err != nil {
			return err
		}
	}
	return nil
}
