package types

import (
	"fmt"
	"github.com/ethereum/go-ethereum/common"

	errorsmod "cosmossdk.io/errors"
)

// DefaultGenesis is the genesis state with the default params, no decisions and no telemetry; the first
// decision and the first fault get id 1, and epoch 1 starts at the genesis block.
func DefaultGenesis() *GenesisState {
	return &GenesisState{NextDecisionId: 1, Params: DefaultParams(), NextFaultId: 1, NextSlashId: 1, NextChallengeId: 1, NextValsetNonce: 1}
}

// Validate checks the params, every decision (Decision.Validate) and telemetry record, that ids and keys are
// unique, that the next ids are above every id so that new records cannot overwrite imported ones, and that
// no record is from an epoch that has not started.
func (gs GenesisState) Validate() error {
	if err := gs.Params.Validate(); err != nil {
		return errorsmod.Wrap(err, "genesis params")
	}
	if err := gs.validateDecisions(); err != nil {
		return err
	}
	// Epoch number 0 means "epoch 1 starts at the genesis block": nothing can be from a later epoch then.
	current := gs.Epoch.Number
	if current == 0 && gs.Epoch.StartHeight != 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "epoch: number 0 (start at genesis) with start_height %d; set both or neither", gs.Epoch.StartHeight)
	}
	if gs.Epoch.StartHeight < 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "epoch: start_height %d is negative", gs.Epoch.StartHeight)
	}
	notStarted := func(what string, epoch uint64) error {
		if epoch > max(current, 1) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "%s is from epoch %d, after the current epoch %d", what, epoch, max(current, 1))
		}
		return nil
	}

	seenSweep := make(map[uint64]bool, len(gs.Sweeps))
	for i, s := range gs.Sweeps {
		if s.Epoch == 0 || s.Epoch >= max(current, 1) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "sweeps[%d]: epoch %d has not ended; the current epoch is %d", i, s.Epoch, max(current, 1))
		}
		if seenSweep[s.Epoch] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "sweeps[%d]: epoch %d appears twice", i, s.Epoch)
		}
		seenSweep[s.Epoch] = true
		if s.StartHeight < 0 || s.EndHeight < s.StartHeight || s.EndHeight >= gs.Epoch.StartHeight {
			return errorsmod.Wrapf(ErrInvalidGenesis, "sweeps[%d]: epoch %d spans heights %d..%d; want 0 <= start <= end < the current epoch's start %d",
				i, s.Epoch, s.StartHeight, s.EndHeight, gs.Epoch.StartHeight)
		}
	}

	type reportKey struct {
		node  string
		epoch uint64
	}
	seenReport := make(map[reportKey]bool, len(gs.Reports))
	for i, r := range gs.Reports {
		if err := ValidateTelemetry(r.NodeId, r.Epoch, r.Gpus, r.Links); err != nil {
			return errorsmod.Wrapf(err, "genesis reports[%d]", i)
		}
		if err := notStarted("reports["+r.NodeId+"]", r.Epoch); err != nil {
			return err
		}
		k := reportKey{r.NodeId, r.Epoch}
		if seenReport[k] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "reports[%d]: node %s has two reports for epoch %d", i, r.NodeId, r.Epoch)
		}
		seenReport[k] = true
		if r.Height <= 0 {
			return errorsmod.Wrapf(ErrInvalidGenesis, "reports[%d]: height %d must be positive", i, r.Height)
		}
		if r.Agent == "" {
			return errorsmod.Wrapf(ErrInvalidGenesis, "reports[%d]: agent is empty", i)
		}
		if int(r.ComparableLinks) > len(r.Links) || len(r.Deviations) > int(r.ComparableLinks) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "reports[%d]: %d deviations among %d comparable links of %d links",
				i, len(r.Deviations), r.ComparableLinks, len(r.Links))
		}
		if r.Disputed != (2*len(r.Deviations) > int(r.ComparableLinks)) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "reports[%d]: disputed is %t but %d of %d comparable links deviate",
				i, r.Disputed, len(r.Deviations), r.ComparableLinks)
		}
		if r.FaultId >= max(gs.NextFaultId, 1) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "reports[%d]: fault_id %d is not below next_fault_id %d", i, r.FaultId, gs.NextFaultId)
		}
		if r.DisputeFaultId >= max(gs.NextFaultId, 1) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "reports[%d]: dispute_fault_id %d is not below next_fault_id %d", i, r.DisputeFaultId, gs.NextFaultId)
		}
	}

	type linkKey struct{ a, b string }
	seenLink := make(map[linkKey]bool, len(gs.Links))
	for i, l := range gs.Links {
		if err := l.Validate(); err != nil {
			return errorsmod.Wrapf(err, "genesis links[%d]", i)
		}
		if err := notStarted("links["+l.NodeA+","+l.NodeB+"]", l.Epoch); err != nil {
			return err
		}
		k := linkKey{l.NodeA, l.NodeB}
		if seenLink[k] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "links[%d]: pair (%s, %s) appears twice", i, l.NodeA, l.NodeB)
		}
		seenLink[k] = true
	}

	if gs.NextFaultId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_fault_id is 0; it must be at least 1 (fault ids start at 1)")
	}
	type faultKey struct {
		node  string
		epoch uint64
		kind  FaultKind
	}
	seenFault := make(map[uint64]bool, len(gs.Faults))
	seenFaultKey := make(map[faultKey]bool, len(gs.Faults))
	for i, f := range gs.Faults {
		if err := f.Validate(); err != nil {
			return errorsmod.Wrapf(err, "genesis faults[%d]", i)
		}
		if seenFault[f.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "faults[%d]: duplicate fault id %d", i, f.Id)
		}
		seenFault[f.Id] = true
		if f.Id >= gs.NextFaultId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "faults[%d]: id %d is not below next_fault_id %d; raise next_fault_id to at least %d",
				i, f.Id, gs.NextFaultId, f.Id+1)
		}
		k := faultKey{f.NodeId, f.Epoch, f.Kind}
		if seenFaultKey[k] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "faults[%d]: node %s has two %s faults in epoch %d", i, f.NodeId, f.Kind, f.Epoch)
		}
		seenFaultKey[k] = true
		if err := notStarted("faults["+f.NodeId+"]", f.Epoch); err != nil {
			return err
		}
	}

	seenStats := make(map[string]bool, len(gs.NodeStats))
	for i, s := range gs.NodeStats {
		if err := ValidateNodeID("node_stats node_id", s.NodeId); err != nil {
			return errorsmod.Wrapf(err, "genesis node_stats[%d]", i)
		}
		if seenStats[s.NodeId] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "node_stats[%d]: node %s appears twice", i, s.NodeId)
		}
		seenStats[s.NodeId] = true
		if s.CleanReports+s.DisputedReports > s.Reports || s.MissedEpochs > s.Faults {
			return errorsmod.Wrapf(ErrInvalidGenesis, "node_stats[%d]: node %s counts %d clean and %d disputed of %d reports, %d missed epochs of %d faults",
				i, s.NodeId, s.CleanReports, s.DisputedReports, s.Reports, s.MissedEpochs, s.Faults)
		}
		if err := notStarted("node_stats["+s.NodeId+"] last_slash_epoch", s.LastSlashEpoch); err != nil {
			return err
		}
	}

	if gs.NextSlashId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_slash_id is 0; it must be at least 1 (slash ids start at 1)")
	}
	seenSlash := make(map[uint64]bool, len(gs.Slashes))
	for i, s := range gs.Slashes {
		if err := s.Validate(); err != nil {
			return errorsmod.Wrapf(err, "genesis slashes[%d]", i)
		}
		if seenSlash[s.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "slashes[%d]: duplicate slash id %d", i, s.Id)
		}
		seenSlash[s.Id] = true
		if s.Id >= gs.NextSlashId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "slashes[%d]: id %d is not below next_slash_id %d; raise next_slash_id to at least %d",
				i, s.Id, gs.NextSlashId, s.Id+1)
		}
		for _, f := range s.FaultIds {
			if f >= gs.NextFaultId {
				return errorsmod.Wrapf(ErrInvalidGenesis, "slashes[%d]: fault %d is not below next_fault_id %d", i, f, gs.NextFaultId)
			}
		}
	}
	if err := gs.validateChallenges(); err != nil {
		return err
	}
	return gs.validateBridge()
}

// validateBridge checks the bridge records: signers with valid addresses, unique valset nonces below
// next_valset_nonce, confirmations of existing valsets, one attestation vote per validator per batch.
func (gs GenesisState) validateBridge() error {
	if gs.NextValsetNonce == 0 && len(gs.Valsets) > 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_valset_nonce must be above every valset nonce")
	}
	for i, s := range gs.EthSigners {
		if s.Validator == "" || !common.IsHexAddress(s.EthAddress) || s.Orchestrator == "" {
			return errorsmod.Wrapf(ErrInvalidGenesis, "eth_signers[%d]: want a validator, a 0x eth_address and an orchestrator", i)
		}
		if (s.PendingHeight == 0) != (s.PendingEthAddress == "") {
			return errorsmod.Wrapf(ErrInvalidGenesis, "eth_signers[%d]: a pending change needs both pending_height and pending_eth_address", i)
		}
	}
	valsets := map[uint64]bool{}
	for i, v := range gs.Valsets {
		if v.Nonce == 0 || v.Nonce >= gs.NextValsetNonce || valsets[v.Nonce] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "valsets[%d]: nonce %d is a duplicate or not in 1..next_valset_nonce-1", i, v.Nonce)
		}
		valsets[v.Nonce] = true
	}
	for i, c := range gs.ValsetConfirms {
		if !valsets[c.Nonce] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "valset_confirms[%d]: no valset %d", i, c.Nonce)
		}
	}
	votes := map[string]bool{}
	for i, a := range gs.BatchAttestations {
		for _, v := range a.Validators {
			key := fmt.Sprintf("%d/%s", a.Claim.BatchNonce, v)
			if votes[key] {
				return errorsmod.Wrapf(ErrInvalidGenesis, "batch_attestations[%d]: validator %s attests batch %d twice", i, v, a.Claim.BatchNonce)
			}
			votes[key] = true
		}
	}
	return gs.validateBridgeQueues()
}

// validateBridgeQueues checks the bridge's pruning and signing-window queues: known kinds, nonces from 1,
// each entry once, and a signing window that closes after its item was made, a valset's own nonce for a
// valset.
func (gs GenesisState) validateBridgeQueues() error {
	prunes := map[string]bool{}
	for i, q := range gs.BridgePrunes {
		key := fmt.Sprintf("%d/%d/%d", q.Height, q.Kind, q.Nonce)
		if !validBridgeKind(q.Kind) || q.Nonce == 0 || q.Height < 0 || prunes[key] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "bridge_prunes[%d]: want kind VALSET or BATCH, nonce ≥ 1, height ≥ 0, each entry once; got %s %d at %d",
				i, q.Kind, q.Nonce, q.Height)
		}
		prunes[key] = true
	}
	checks := map[string]bool{}
	for i, c := range gs.UnsignedChecks {
		key := fmt.Sprintf("%d/%d/%d", c.DueHeight, c.Kind, c.Nonce)
		if !validBridgeKind(c.Kind) || c.Nonce == 0 || c.ValsetNonce == 0 || c.DueHeight <= c.CreatedHeight || checks[key] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unsigned_checks[%d]: want kind VALSET or BATCH, nonce and valset_nonce ≥ 1, due_height after created_height, each entry once; got %s %d (valset %d) made at %d due at %d",
				i, c.Kind, c.Nonce, c.ValsetNonce, c.CreatedHeight, c.DueHeight)
		}
		if c.Kind == BRIDGE_ITEM_KIND_VALSET && c.ValsetNonce != c.Nonce {
			return errorsmod.Wrapf(ErrInvalidGenesis, "unsigned_checks[%d]: a valset's signing window expects its own members (valset_nonce %d, nonce %d)", i, c.ValsetNonce, c.Nonce)
		}
		checks[key] = true
	}
	return nil
}

func validBridgeKind(k BridgeItemKind) bool {
	return k == BRIDGE_ITEM_KIND_VALSET || k == BRIDGE_ITEM_KIND_BATCH
}

func (gs GenesisState) validateChallenges() error {
	if gs.NextChallengeId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_challenge_id is 0; it must be at least 1 (challenge ids start at 1)")
	}
	seen := make(map[uint64]bool, len(gs.Challenges))
	links := map[string]bool{}
	for i, c := range gs.Challenges {
		if err := c.Validate(); err != nil {
			return errorsmod.Wrapf(err, "genesis challenges[%d]", i)
		}
		if seen[c.Id] || c.Id >= gs.NextChallengeId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenges[%d]: id %d is a duplicate or not below next_challenge_id %d", i, c.Id, gs.NextChallengeId)
		}
		seen[c.Id] = true
		link := fmt.Sprintf("%s/%d/%s", c.NodeId, c.Epoch, c.PeerNodeId)
		if links[link] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenges[%d]: the link %s of epoch %d is challenged twice; one challenge per link", i, c.NodeId+"-"+c.PeerNodeId, c.Epoch)
		}
		links[link] = true
		if c.FaultId >= gs.NextFaultId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "challenges[%d]: fault %d is not below next_fault_id %d", i, c.FaultId, gs.NextFaultId)
		}
	}
	return nil
}

func (gs GenesisState) validateDecisions() error {
	if gs.NextDecisionId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_decision_id is 0; it must be at least 1 (decision ids start at 1)")
	}
	seen := make(map[uint64]bool, len(gs.Decisions))
	for i, d := range gs.Decisions {
		if seen[d.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "decisions[%d]: duplicate decision id %d", i, d.Id)
		}
		seen[d.Id] = true
		if d.Id >= gs.NextDecisionId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "decisions[%d]: id %d is not below next_decision_id %d; raise next_decision_id to at least %d",
				i, d.Id, gs.NextDecisionId, d.Id+1)
		}
		if err := d.Validate(); err != nil {
			return errorsmod.Wrapf(err, "genesis decisions[%d]", i)
		}
	}
	return nil
}
