package types

import (
	"slices"

	"cosmossdk.io/core/address"
	errorsmod "cosmossdk.io/errors"

	sdk "github.com/cosmos/cosmos-sdk/types"
)

// DefaultGenesis is the genesis state with default params, no leases, and ids starting at 1.
func DefaultGenesis() *GenesisState {
	return &GenesisState{Params: DefaultParams(), NextLeaseId: 1, NextRecordId: 1, NextBatchNonce: 1}
}

// Validate checks the params, every lease and settlement record, the uniqueness of ids and that the next
// ids are above every id in use.
func (gs GenesisState) Validate(addrCodec address.Codec) error {
	if err := gs.Params.Validate(); err != nil {
		return err
	}
	if gs.NextLeaseId == 0 || gs.NextRecordId == 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_lease_id and next_record_id start at 1")
	}
	leases := make(map[uint64]Lease, len(gs.Leases))
	for i, l := range gs.Leases {
		if _, dup := leases[l.Id]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "leases[%d]: duplicate lease id %d", i, l.Id)
		}
		if l.Id >= gs.NextLeaseId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "leases[%d]: id %d is not below next_lease_id %d", i, l.Id, gs.NextLeaseId)
		}
		if err := l.Validate(addrCodec); err != nil {
			return errorsmod.Wrapf(err, "leases[%d]", i)
		}
		leases[l.Id] = l
	}
	records := make(map[uint64]bool, len(gs.SettlementRecords))
	for i, r := range gs.SettlementRecords {
		if r.Id == 0 || r.Id >= gs.NextRecordId {
			return errorsmod.Wrapf(ErrInvalidGenesis, "settlement_records[%d]: id %d must be in 1..next_record_id-1 (%d)", i, r.Id, gs.NextRecordId-1)
		}
		if records[r.Id] {
			return errorsmod.Wrapf(ErrInvalidGenesis, "settlement_records[%d]: duplicate record id %d", i, r.Id)
		}
		records[r.Id] = true
		l, ok := leases[r.LeaseId]
		switch {
		case ok && l.State != LEASE_STATE_CLOSED && len(l.PastPlacements) == 0:
			return errorsmod.Wrapf(ErrInvalidGenesis, "settlement_records[%d]: lease %d has neither closed nor been moved", i, r.LeaseId)
		case !ok && (!r.Bridged || r.LeaseId == 0 || r.LeaseId >= gs.NextLeaseId):
			// Only a bridged record outlives its pruned lease: it goes with its batch.
			return errorsmod.Wrapf(ErrInvalidGenesis, "settlement_records[%d]: lease %d is not in this genesis; want a lease of the genesis that closed or was moved, or a bridged record of a pruned lease (id below next_lease_id)", i, r.LeaseId)
		}
		var lp *Lease
		if ok {
			lp = &l
		}
		if err := r.validate(addrCodec, lp); err != nil {
			return errorsmod.Wrapf(err, "settlement_records[%d]", i)
		}
	}
	if gs.NextBatchNonce == 0 && len(gs.Batches) > 0 {
		return errorsmod.Wrap(ErrInvalidGenesis, "next_batch_nonce must exceed every batch nonce")
	}
	batches := make(map[uint64]SettlementBatch, len(gs.Batches))
	for i, b := range gs.Batches {
		if b.Nonce == 0 || b.Nonce >= gs.NextBatchNonce {
			return errorsmod.Wrapf(ErrInvalidGenesis, "batches[%d]: nonce %d must be in 1..next_batch_nonce-1 (%d)", i, b.Nonce, gs.NextBatchNonce-1)
		}
		if _, dup := batches[b.Nonce]; dup {
			return errorsmod.Wrapf(ErrInvalidGenesis, "batches[%d]: duplicate nonce %d", i, b.Nonce)
		}
		if _, ok := BatchState_name[int32(b.State)]; !ok || b.State == BATCH_STATE_UNSPECIFIED {
			return errorsmod.Wrapf(ErrInvalidGenesis, "batches[%d]: state %d: want PENDING, BRIDGED or CANCELLED", i, b.State)
		}
		batches[b.Nonce] = b
	}
	for i, r := range gs.SettlementRecords {
		if r.BatchNonce == 0 {
			continue
		}
		b, ok := batches[r.BatchNonce]
		if !r.Bridged || !ok || b.State == BATCH_STATE_CANCELLED || !slices.Contains(b.RecordIds, r.Id) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "settlement_records[%d]: batch %d is not a pending or bridged batch of this genesis holding bridged record %d", i, r.BatchNonce, r.Id)
		}
	}
	if err := gs.BridgedTotal.Validate(); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "bridged_total: %v; want sorted positive coins, one per denom", err)
	}
	bridged := sdk.NewCoins()
	for _, b := range gs.Batches {
		if b.State == BATCH_STATE_BRIDGED {
			bridged = bridged.Add(b.Total)
		}
	}
	if !gs.BridgedTotal.IsAllGTE(bridged) {
		return errorsmod.Wrapf(ErrInvalidGenesis, "bridged_total %s is below the totals of the bridged batches of this genesis (%s): it also counts the pruned ones",
			gs.BridgedTotal, bridged)
	}
	return nil
}

// validate checks a record against the lease it settles (nil: a pruned lease, whose nodes and denom are
// not known any more).
func (r SettlementRecord) validate(addrCodec address.Codec, l *Lease) error {
	denom := r.Amount.Denom
	if l != nil {
		denom = l.Deposit.Denom
		if !slices.ContainsFunc(l.AllNodes(), func(n LeaseNode) bool { return n.NodeId == r.NodeId }) {
			return errorsmod.Wrapf(ErrInvalidGenesis, "record %d: node %q is not a node of lease %d", r.Id, r.NodeId, l.Id)
		}
	}
	if err := validateCanonicalAddress(addrCodec, r.Operator); err != nil {
		return errorsmod.Wrapf(ErrInvalidGenesis, "record %d: operator %q: %v", r.Id, r.Operator, err)
	}
	for _, c := range []struct {
		name string
		err  error
		d    string
	}{{"amount", r.Amount.Validate(), r.Amount.Denom}, {"fee", r.Fee.Validate(), r.Fee.Denom}} {
		if c.err != nil {
			return errorsmod.Wrapf(ErrInvalidGenesis, "record %d: %s: %v", r.Id, c.name, c.err)
		}
		if c.d != denom {
			return errorsmod.Wrapf(ErrInvalidGenesis, "record %d: %s denom %q differs from the lease's %q", r.Id, c.name, c.d, denom)
		}
	}
	if r.Height <= 0 {
		return errorsmod.Wrapf(ErrInvalidGenesis, "record %d: height must be positive", r.Id)
	}
	return nil
}
