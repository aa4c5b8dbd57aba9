package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/audit/types"
)

// InitGenesis stores the params, the decisions, the telemetry records and the sequences; indexes are
// rebuilt as the records are set. An epoch number of 0 starts epoch 1 at the genesis block.
func (k Keeper) InitGenesis(ctx context.Context, gs types.GenesisState) error {
	if err := gs.Validate(); err != nil {
		return err
	}
	if err := k.Params.Set(ctx, gs.Params); err != nil {
		return err
	}
	for _, d := range gs.Decisions {
		if err := k.Decisions.Set(ctx, d.Id, d); err != nil {
			return err
		}
	}
	if err := k.DecisionSeq.Set(ctx, gs.NextDecisionId); err != nil {
		return err
	}
	epoch := gs.Epoch
	if epoch.Number == 0 {
		epoch = types.EpochInfo{Number: 1, StartHeight: sdk.UnwrapSDKContext(ctx).BlockHeight()}
	}
	if err := k.Epoch.Set(ctx, epoch); err != nil {
		return err
	}
	for _, s := range gs.Sweeps {
		if err := k.Sweeps.Set(ctx, s.Epoch, s); err != nil {
			return err
		}
	}
	for _, r := range gs.Reports {
		if err := k.Reports.Set(ctx, collections.Join(r.NodeId, r.Epoch), r); err != nil {
			return err
		}
	}
	for _, l := range gs.Links {
		if err := k.Links.Set(ctx, collections.Join(l.NodeA, l.NodeB), l); err != nil {
			return err
		}
	}
	for _, f := range gs.Faults {
		if err := k.Faults.Set(ctx, f.Id, f); err != nil {
			return err
		}
	}
	if err := k.FaultSeq.Set(ctx, gs.NextFaultId); err != nil {
		return err
	}
	for _, s := range gs.NodeStats {
		if err := k.NodeStats.Set(ctx, s.NodeId, s); err != nil {
			return err
		}
	}
	for _, s := range gs.Slashes {
		if err := k.Slashes.Set(ctx, s.Id, s); err != nil {
			return err
		}
	}
	if err := k.SlashSeq.Set(ctx, gs.NextSlashId); err != nil {
		return err
	}
	for _, c := range gs.Challenges {
		if err := k.Challenges.Set(ctx, c.Id, c); err != nil {
			return err
		}
		if err := k.ChallengedLinks.Set(ctx, collections.Join3(c.NodeId, c.Epoch, c.PeerNodeId), c.Id); err != nil {
			return err
		}
		if c.Status == types.CHALLENGE_STATUS_OPEN {
			if err := k.ChallengeDeadlines.Set(ctx, collections.Join(c.DeadlineHeight, c.Id)); err != nil {
				return err
			}
		}
	}
	if err := k.ChallengeSeq.Set(ctx, max(gs.NextChallengeId, 1)); err != nil {
		return err
	}
	return k.initBridgeGenesis(ctx, gs)
}

// initBridgeGenesis stores the bridge state; the address reservations and the change queue are rebuilt
// from the signers, the votes from the attestations.
func (k Keeper) initBridgeGenesis(ctx context.Context, gs types.GenesisState) error {
	for _, s := range gs.EthSigners {
		if err := k.EthSigners.Set(ctx, s.Validator, s); err != nil {
			return err
		}
		for _, r := range []struct {
			m   collections.Map[string, string]
			key string
		}{{k.SignerByEthAddress, s.EthAddress}, {k.SignerByOrchestrator, s.Orchestrator},
			{k.SignerByEthAddress, s.PendingEthAddress}, {k.SignerByOrchestrator, s.PendingOrchestrator}} {
			if r.key == "" {
				continue
			}
			if owner, err := r.m.Get(ctx, r.key); err == nil && owner != s.Validator {
				return fmt.Errorf("x/audit genesis: %s is the signer or orchestrator of both %s and %s", r.key, owner, s.Validator)
			}
			if err := r.m.Set(ctx, r.key, s.Validator); err != nil {
				return err
			}
		}
		if s.PendingHeight != 0 {
			if err := k.SignerChanges.Set(ctx, collections.Join(s.PendingHeight, s.Validator)); err != nil {
				return err
			}
		}
	}
	for _, v := range gs.Valsets {
		if err := k.Valsets.Set(ctx, v.Nonce, v); err != nil {
			return err
		}
	}
	if err := k.ValsetSeq.Set(ctx, max(gs.NextValsetNonce, 1)); err != nil {
		return err
	}
	for _, c := range gs.ValsetConfirms {
		if err := k.ValsetConfirms.Set(ctx, collections.Join(c.Nonce, c.Validator), c); err != nil {
			return err
		}
	}
	for _, c := range gs.BatchConfirms {
		if err := k.BatchConfirms.Set(ctx, collections.Join(c.Nonce, c.Validator), c); err != nil {
			return err
		}
	}
	for _, a := range gs.BatchAttestations {
		if err := k.BatchAttestations.Set(ctx, collections.Join(a.Claim.BatchNonce, claimHash(a.Claim)), a); err != nil {
			return err
		}
		for _, v := range a.Validators {
			if err := k.AttestVotes.Set(ctx, collections.Join(a.Claim.BatchNonce, v)); err != nil {
				return err
			}
		}
	}
	for _, q := range gs.BridgePrunes {
		if err := k.BridgePrunes.Set(ctx, queueKey(q.Height, q.Kind, q.Nonce)); err != nil {
			return err
		}
	}
	for _, c := range gs.UnsignedChecks {
		if err := k.UnsignedChecks.Set(ctx, queueKey(c.DueHeight, c.Kind, c.Nonce), c); err != nil {
			return err
		}
	}
	return k.LastObservedBatch.Set(ctx, gs.LastObservedBatchNonce)
}

func (k Keeper) exportBridgeGenesis(ctx context.Context, gs *types.GenesisState) error {
	if err := k.EthSigners.Walk(ctx, nil, func(_ string, s types.EthSigner) (bool, error) {
		gs.EthSigners = append(gs.EthSigners, s)
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.Valsets.Walk(ctx, nil, func(_ uint64, v types.BridgeValset) (bool, error) {
		gs.Valsets = append(gs.Valsets, v)
		return false, nil
	}); err != nil {
		return err
	}
	next, err := k.ValsetSeq.Peek(ctx)
	if err != nil {
		return err
	}
	gs.NextValsetNonce = max(next, 1)
	if err := k.ValsetConfirms.Walk(ctx, nil, func(_ collections.Pair[uint64, string], c types.BridgeConfirm) (bool, error) {
		gs.ValsetConfirms = append(gs.ValsetConfirms, c)
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.BatchConfirms.Walk(ctx, nil, func(_ collections.Pair[uint64, string], c types.BridgeConfirm) (bool, error) {
		gs.BatchConfirms = append(gs.BatchConfirms, c)
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.BatchAttestations.Walk(ctx, nil, func(_ collections.Pair[uint64, []byte], a types.BatchAttestation) (bool, error) {
		gs.BatchAttestations = append(gs.BatchAttestations, a)
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.BridgePrunes.Walk(ctx, nil, func(key BridgeQueueKey) (bool, error) {
		gs.BridgePrunes = append(gs.BridgePrunes, types.BridgePrune{Height: key.K1(), Kind: types.BridgeItemKind(key.K2()), Nonce: key.K3()})
		return false, nil
	}); err != nil {
		return err
	}
	if err := k.UnsignedChecks.Walk(ctx, nil, func(_ BridgeQueueKey, c types.UnsignedCheck) (bool, error) {
		gs.UnsignedChecks = append(gs.UnsignedChecks, c)
		return false, nil
	}); err != nil {
		return err
	}
	last, err := k.LastObservedBatch.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	gs.LastObservedBatchNonce = last
	return nil
}

// ExportGenesis exports the params, every record in key order, the current epoch, the unfinished sweeps and
// the next ids.
func (k Keeper) ExportGenesis(ctx context.Context) (*types.GenesisState, error) {
	next, err := k.nextDecisionID(ctx)
	if err != nil {
		return nil, err
	}
	nextFault, err := k.nextFaultID(ctx)
	if err != nil {
		return nil, err
	}
	nextSlash, err := k.SlashSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	// A store that never ran InitGenesis (a module added by an upgrade, before its migration) exports the
	// default params and an epoch that starts at the importing chain's genesis.
	params, err := k.Params.Get(ctx)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		params = types.DefaultParams()
	case err != nil:
		return nil, err
	}
	epoch, err := k.Epoch.Get(ctx)
	switch {
	case errors.Is(err, collections.ErrNotFound):
		epoch = types.EpochInfo{}
	case err != nil:
		return nil, err
	}
	gs := &types.GenesisState{NextDecisionId: next, Params: params, Epoch: epoch, NextFaultId: nextFault, NextSlashId: max(nextSlash, 1)}
	if err := k.Decisions.Walk(ctx, nil, func(_ uint64, d types.Decision) (bool, error) {
		gs.Decisions = append(gs.Decisions, d)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Sweeps.Walk(ctx, nil, func(_ uint64, s types.EpochSweep) (bool, error) {
		gs.Sweeps = append(gs.Sweeps, s)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Reports.Walk(ctx, nil, func(_ ReportKey, r types.TelemetryReport) (bool, error) {
		gs.Reports = append(gs.Reports, r)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Links.Walk(ctx, nil, func(_ LinkKey, l types.LinkAggregate) (bool, error) {
		gs.Links = append(gs.Links, l)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Faults.Walk(ctx, nil, func(_ uint64, f types.Fault) (bool, error) {
		gs.Faults = append(gs.Faults, f)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.NodeStats.Walk(ctx, nil, func(_ string, s types.NodeAuditStats) (bool, error) {
		gs.NodeStats = append(gs.NodeStats, s)
		return false, nil
	}); err != nil {
		return nil, err
	}
	if err := k.Slashes.Walk(ctx, nil, func(_ uint64, s types.Slash) (bool, error) {
		gs.Slashes = append(gs.Slashes, s)
		return false, nil
	}); err != nil {
		return nil, err
	}
	nextChallenge, err := k.ChallengeSeq.Peek(ctx)
	if err != nil {
		return nil, err
	}
	gs.NextChallengeId = max(nextChallenge, 1)
	if err := k.Challenges.Walk(ctx, nil, func(_ uint64, c types.Challenge) (bool, error) {
		gs.Challenges = append(gs.Challenges, c)
		return false, nil
	}); err != nil {
		return nil, err
	}
	return gs, k.exportBridgeGenesis(ctx, gs)
}

// CheckDecisionIndexes returns an error unless the decision log is consistent: every index entry points at a
// stored decision whose lease, height or node it names; every decision has its entries (one per index, one
// per node in the node index); and the next decision id is above every stored id. Keeper tests run it after
// every change; the simulation runs it after every block.
func (k Keeper) CheckDecisionIndexes(ctx context.Context) error {
	next, err := k.nextDecisionID(ctx)
	if err != nil {
		return err
	}
	var decisions, nodeRefs uint64
	err = k.Decisions.Walk(ctx, nil, func(id uint64, d types.Decision) (bool, error) {
		if id != d.Id {
			return true, fmt.Errorf("decision stored under id %d has id %d", id, d.Id)
		}
		if id >= next {
			return true, fmt.Errorf("decision %d is not below the next decision id %d", id, next)
		}
		decisions++
		nodeRefs += uint64(len(d.NodeIds))
		return false, nil
	})
	if err != nil {
		return err
	}

	// Each entry is checked against its decision, and entries are distinct keys; so equal counts mean that
	// every decision has exactly its entries.
	count := func(name string, n uint64, want uint64) error {
		if n != want {
			return fmt.Errorf("index %s has %d entries; the %d decisions need %d", name, n, decisions, want)
		}
		return nil
	}
	var n uint64
	err = k.Decisions.Indexes.Lease.Walk(ctx, nil, func(lease, id uint64) (bool, error) {
		d, err := k.indexedDecision(ctx, "decisions_by_lease", id)
		if err == nil && d.LeaseId != lease {
			err = fmt.Errorf("decisions_by_lease: entry (%d, %d) but decision %d is for lease %d", lease, id, id, d.LeaseId)
		}
		n++
		return err != nil, err
	})
	if err == nil {
		err = count("decisions_by_lease", n, decisions)
	}
	if err != nil {
		return err
	}

	n = 0
	err = k.Decisions.Indexes.Height.Walk(ctx, nil, func(height int64, id uint64) (bool, error) {
		d, err := k.indexedDecision(ctx, "decisions_by_height", id)
		if err == nil && d.Height != height {
			err = fmt.Errorf("decisions_by_height: entry (%d, %d) but decision %d is at height %d", height, id, id, d.Height)
		}
		n++
		return err != nil, err
	})
	if err == nil {
		err = count("decisions_by_height", n, decisions)
	}
	if err != nil {
		return err
	}

	n = 0
	err = k.Decisions.Indexes.Node.Walk(ctx, nil, func(node string, id uint64) (bool, error) {
		d, err := k.indexedDecision(ctx, "decisions_by_node", id)
		if err == nil && !d.HasNode(node) {
			err = fmt.Errorf("decisions_by_node: entry (%s, %d) but decision %d places nothing on %s (nodes %v)", node, id, id, node, d.NodeIds)
		}
		n++
		return err != nil, err
	})
	if err == nil {
		err = count("decisions_by_node", n, nodeRefs)
	}
	return err
}

func (k Keeper) indexedDecision(ctx context.Context, index string, id uint64) (types.Decision, error) {
	d, err := k.Decisions.Get(ctx, id)
	if err != nil {
		return types.Decision{}, fmt.Errorf("%s: entry for decision %d: %w", index, id, err)
	}
	return d, nil
}

// CheckTelemetryState returns an error unless the telemetry state is consistent: every record sits under its
// own key and is valid as genesis import requires, no record is from an epoch after the current one, every
// index entry points at a record it matches and every record has its entries, fault ids are below the next
// fault id, and unfinished sweeps are of ended epochs. Keeper tests run it after every change; the
// simulation runs it after every block (App.CheckInvariants).
func (k Keeper) CheckTelemetryState(ctx context.Context) error {
	// Without InitGenesis there are no params and no epoch, and there must be no telemetry either: with
	// epoch 0 as the current one, any record fails the checks below.
	cur, err := k.Epoch.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return fmt.Errorf("epoch: %w", err)
	}
	params, err := k.Params.Get(ctx)
	switch {
	case err == nil:
		if err := params.Validate(); err != nil {
			return fmt.Errorf("stored params: %w", err)
		}
	case !errors.Is(err, collections.ErrNotFound):
		return fmt.Errorf("params: %w", err)
	}
	nextFault, err := k.nextFaultID(ctx)
	if err != nil {
		return err
	}

	err = k.Sweeps.Walk(ctx, nil, func(epoch uint64, s types.EpochSweep) (bool, error) {
		if s.Epoch != epoch || epoch == 0 || epoch >= cur.Number || s.EndHeight >= cur.StartHeight || s.StartHeight > s.EndHeight {
			return true, fmt.Errorf("sweep under epoch %d is for epoch %d, heights %d..%d, with current epoch %d starting at %d",
				epoch, s.Epoch, s.StartHeight, s.EndHeight, cur.Number, cur.StartHeight)
		}
		return false, nil
	})
	if err != nil {
		return err
	}

	var reports uint64
	err = k.Reports.Walk(ctx, nil, func(key ReportKey, r types.TelemetryReport) (bool, error) {
		reports++
		switch {
		case key.K1() != r.NodeId || key.K2() != r.Epoch:
			return true, fmt.Errorf("report of %s for epoch %d stored under (%s, %d)", r.NodeId, r.Epoch, key.K1(), key.K2())
		case r.Epoch > cur.Number:
			return true, fmt.Errorf("report of %s is for epoch %d, after the current epoch %d", r.NodeId, r.Epoch, cur.Number)
		case r.FaultId >= nextFault:
			return true, fmt.Errorf("report of %s for epoch %d names fault %d, not below the next fault id %d", r.NodeId, r.Epoch, r.FaultId, nextFault)
		}
		return false, types.ValidateTelemetry(r.NodeId, r.Epoch, r.Gpus, r.Links)
	})
	if err != nil {
		return err
	}
	var n uint64
	err = k.Reports.Indexes.Epoch.Walk(ctx, nil, func(epoch uint64, node string) (bool, error) {
		n++
		has, err := k.Reports.Has(ctx, collections.Join(node, epoch))
		if err == nil && !has {
			err = fmt.Errorf("reports_by_epoch: entry (%d, %s) without a report", epoch, node)
		}
		return err != nil, err
	})
	if err == nil && n != reports {
		err = fmt.Errorf("reports_by_epoch has %d entries for %d reports", n, reports)
	}
	if err != nil {
		return err
	}

	var links uint64
	err = k.Links.Walk(ctx, nil, func(key LinkKey, l types.LinkAggregate) (bool, error) {
		links++
		if key.K1() != l.NodeA || key.K2() != l.NodeB {
			return true, fmt.Errorf("link (%s, %s) stored under (%s, %s)", l.NodeA, l.NodeB, key.K1(), key.K2())
		}
		if l.Epoch > cur.Number {
			return true, fmt.Errorf("link (%s, %s) has a sample from epoch %d, after the current epoch %d", l.NodeA, l.NodeB, l.Epoch, cur.Number)
		}
		return false, l.Validate()
	})
	if err != nil {
		return err
	}
	n = 0
	err = k.Links.Indexes.Node.Walk(ctx, nil, func(node string, key LinkKey) (bool, error) {
		n++
		l, err := k.Links.Get(ctx, key)
		if err == nil && node != l.NodeA && node != l.NodeB {
			err = fmt.Errorf("links_by_node: entry (%s, (%s, %s)) for a link that does not end at %s", node, key.K1(), key.K2(), node)
		}
		if err != nil {
			return true, fmt.Errorf("links_by_node: entry (%s, (%s, %s)): %w", node, key.K1(), key.K2(), err)
		}
		return false, nil
	})
	if err == nil && n != 2*links {
		err = fmt.Errorf("links_by_node has %d entries; the %d links need %d", n, links, 2*links)
	}
	if err != nil {
		return err
	}
	n = 0
	err = k.Links.Indexes.Epoch.Walk(ctx, nil, func(epoch uint64, key LinkKey) (bool, error) {
		n++
		l, err := k.Links.Get(ctx, key)
		if err == nil && l.Epoch != epoch {
			err = fmt.Errorf("entry for epoch %d but the link's newest sample is from epoch %d", epoch, l.Epoch)
		}
		if err != nil {
			return true, fmt.Errorf("links_by_epoch: entry (%d, (%s, %s)): %w", epoch, key.K1(), key.K2(), err)
		}
		return false, nil
	})
	if err == nil && n != links {
		err = fmt.Errorf("links_by_epoch has %d entries for %d links", n, links)
	}
	if err != nil {
		return err
	}

	var faults uint64
	err = k.Faults.Walk(ctx, nil, func(id uint64, f types.Fault) (bool, error) {
		faults++
		switch {
		case id != f.Id:
			return true, fmt.Errorf("fault %d stored under id %d", f.Id, id)
		case id >= nextFault:
			return true, fmt.Errorf("fault %d is not below the next fault id %d", id, nextFault)
		case f.Epoch > cur.Number:
			return true, fmt.Errorf("fault %d is from epoch %d, after the current epoch %d", id, f.Epoch, cur.Number)
		}
		return false, f.Validate()
	})
	if err != nil {
		return err
	}
	n = 0
	err = k.Faults.Indexes.NodeEpoch.Walk(ctx, nil, func(ref collections.Pair[string, uint64], id uint64) (bool, error) {
		n++
		f, err := k.Faults.Get(ctx, id)
		if err == nil && (f.NodeId != ref.K1() || f.Epoch != ref.K2()) {
			err = fmt.Errorf("fault is of node %s in epoch %d", f.NodeId, f.Epoch)
		}
		if err != nil {
			return true, fmt.Errorf("faults_by_node: entry ((%s, %d), %d): %w", ref.K1(), ref.K2(), id, err)
		}
		return false, nil
	})
	if err == nil && n != faults {
		err = fmt.Errorf("faults_by_node has %d entries for %d faults", n, faults)
	}
	if err != nil {
		return err
	}
	n = 0
	err = k.Faults.Indexes.Epoch.Walk(ctx, nil, func(epoch, id uint64) (bool, error) {
		n++
		f, err := k.Faults.Get(ctx, id)
		if err == nil && f.Epoch != epoch {
			err = fmt.Errorf("fault is from epoch %d", f.Epoch)
		}
		if err != nil {
			return true, fmt.Errorf("faults_by_epoch: entry (%d, %d): %w", epoch, id, err)
		}
		return false, nil
	})
	if err == nil && n != faults {
		err = fmt.Errorf("faults_by_epoch has %d entries for %d faults", n, faults)
	}
	if err != nil {
		return err
	}

	if err := k.NodeStats.Walk(ctx, nil, func(node string, s types.NodeAuditStats) (bool, error) {
		if node != s.NodeId {
			return true, fmt.Errorf("stats of node %s stored under %s", s.NodeId, node)
		}
		if s.CleanReports+s.DisputedReports > s.Reports || s.MissedEpochs > s.Faults {
			return true, fmt.Errorf("stats of node %s: %d clean and %d disputed of %d reports, %d missed of %d faults",
				node, s.CleanReports, s.DisputedReports, s.Reports, s.MissedEpochs, s.Faults)
		}
		return false, nil
	}); err != nil {
		return err
	}
	return k.CheckSlashes(ctx)
}
