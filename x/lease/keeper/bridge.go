package keeper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"

	"cosmossdk.io/collections"
	errorsmod "cosmossdk.io/errors"
	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/query"
	"github.com/ethereum/go-ethereum/common"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/consensus-nro/nro/internal/collx"
	"github.com/consensus-nro/nro/x/lease/types"
)

// Settlement batches (x/lease/README.md, "Ethereum bridge"). A bridged settlement record waits in Unbatched
// until EndBlock puts it into a batch: every batch_blocks, as soon as max_batch_records wait, or when the
// newest pending batch has timed out while pending batches hold records (the new batch, once executed,
// overtakes them). x/audit marks a batch BRIDGED when the validators attest its execution; the pending
// batches it overtook are CANCELLED and their records wait again. The contract's nonce rule makes this safe:
// once batch n has executed, no batch below n ever can.

// MakeBatch runs in EndBlock: it makes at most one batch of at most max_batch_records waiting records.
func (k Keeper) MakeBatch(ctx context.Context) error {
	params, err := k.Params.Get(ctx)
	if err != nil {
		return err
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	height := sdkCtx.BlockHeight()
	last, err := k.LastBatchHeight.Get(ctx)
	if err != nil && !errors.Is(err, collections.ErrNotFound) {
		return err
	}
	it, err := k.Unbatched.Iterate(ctx, nil)
	if err != nil {
		return err
	}
	ids, err := collx.TakeKeys[uint64](it, int(params.MaxBatchRecords))
	if err != nil {
		return err
	}
	due := len(ids) > 0 && (height-last >= int64(params.BatchBlocks) || len(ids) >= int(params.MaxBatchRecords))
	denom := ""
	if !due {
		overtake, d, err := k.needsOvertaking(ctx, uint64(sdkCtx.BlockTime().Unix()))
		if err != nil {
			return err
		}
		if !overtake {
			return nil
		}
		denom = d
	}
	return k.makeBatch(ctx, params, ids, denom)
}

// needsOvertaking reports whether the newest pending batch has timed out while some pending batch holds
// records (and that batch's denom): only a new batch, executed, releases them.
func (k Keeper) needsOvertaking(ctx context.Context, now uint64) (bool, string, error) {
	pending, err := k.PendingBatches(ctx)
	if err != nil || len(pending) == 0 {
		return false, "", err
	}
	if newest := pending[len(pending)-1]; newest.Timeout > now {
		return false, "", nil
	}
	for _, b := range pending {
		if len(b.RecordIds) > 0 {
			return true, b.Total.Denom, nil
		}
	}
	return false, "", nil
}

// PendingBatches returns the PENDING batches in nonce order. There are few: batches are made at most once
// per batch_blocks unless records pile up, and a bridged batch cancels those below it.
func (k Keeper) PendingBatches(ctx context.Context) ([]types.SettlementBatch, error) {
	it, err := k.Batches.Indexes.State.MatchExact(ctx, int32(types.BATCH_STATE_PENDING))
	if err != nil {
		return nil, err
	}
	nonces, err := it.PrimaryKeys()
	if err != nil {
		return nil, err
	}
	out := make([]types.SettlementBatch, 0, len(nonces))
	for _, n := range nonces {
		b, err := k.Batches.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

// makeBatch puts the records ids into a new batch; denom is the total's denom when ids is empty.
func (k Keeper) makeBatch(ctx context.Context, params types.Params, ids []uint64, denom string) error {
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	nonce, err := nextID(ctx, k.BatchSeq)
	if err != nil {
		return err
	}
	sums := map[common.Address]math.Int{}
	var addrs []common.Address
	total := math.ZeroInt()
	for i, id := range ids {
		r, err := k.SettlementRecords.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("unbatched record %d: %w", id, err)
		}
		if i > 0 && r.Amount.Denom != denom {
			ids = ids[:i] // one denom per batch; the rest go into the next one
			break
		}
		if !common.IsHexAddress(r.EthAddress) {
			return fmt.Errorf("bridged record %d has no Ethereum address (%q)", id, r.EthAddress)
		}
		denom = r.Amount.Denom
		addr := common.HexToAddress(r.EthAddress)
		if _, ok := sums[addr]; !ok {
			addrs = append(addrs, addr)
			sums[addr] = math.ZeroInt()
		}
		sums[addr] = sums[addr].Add(r.Amount.Amount)
		total = total.Add(r.Amount.Amount)
		r.BatchNonce = nonce
		if err := k.SettlementRecords.Set(ctx, id, r); err != nil {
			return err
		}
		if err := k.Unbatched.Remove(ctx, id); err != nil {
			return err
		}
	}
	// The contract mints once per payout; ascending address order makes the batch the same on every validator.
	slices.SortFunc(addrs, func(a, b common.Address) int { return bytes.Compare(a[:], b[:]) })
	payouts := make([]types.BatchPayout, len(addrs))
	for i, a := range addrs {
		payouts[i] = types.BatchPayout{EthAddress: a.Hex(), Amount: sums[a]}
	}
	b := types.SettlementBatch{
		Nonce:         nonce,
		Payouts:       payouts,
		RecordIds:     ids,
		Total:         sdk.NewCoin(denom, total),
		CreatedHeight: sdkCtx.BlockHeight(),
		Timeout:       uint64(sdkCtx.BlockTime().Unix()) + params.BatchTimeoutSeconds,
		State:         types.BATCH_STATE_PENDING,
	}
	if err := k.Batches.Set(ctx, nonce, b); err != nil {
		return err
	}
	if err := k.LastBatchHeight.Set(ctx, sdkCtx.BlockHeight()); err != nil {
		return err
	}
	k.logger.Info("settlement batch made", "nonce", nonce, "records", len(ids), "payouts", len(payouts), "total", b.Total.String())
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventBatchCreated{
		Nonce: nonce, Records: uint32(len(ids)), Payouts: uint32(len(payouts)), Total: b.Total, Timeout: b.Timeout,
	})
}

// GetBatch returns a batch by nonce, or ErrBatchNotFound.
func (k Keeper) GetBatch(ctx context.Context, nonce uint64) (types.SettlementBatch, error) {
	b, err := k.Batches.Get(ctx, nonce)
	if errors.Is(err, collections.ErrNotFound) {
		return b, types.ErrBatchNotFound.Wrapf("no settlement batch with nonce %d", nonce)
	}
	return b, err
}

// MarkBatchBridged records that the settlement contract executed batch nonce at ethBlock in txHash, after
// the batch prev (0: none) — the contract's lastBatchNonce before it. x/audit calls it once more than 2/3
// of the voting power attests it, and only once prev is BRIDGED on the chain (or 0): every PENDING batch
// between prev and nonce was skipped on Ethereum, can never execute, and is CANCELLED with its records put
// back to wait for a later batch.
func (k Keeper) MarkBatchBridged(ctx context.Context, nonce, prev, ethBlock uint64, txHash string) error {
	b, err := k.GetBatch(ctx, nonce)
	if err != nil {
		return err
	}
	if b.State != types.BATCH_STATE_PENDING {
		return types.ErrBatchNotPending.Wrapf("batch %d is %s", nonce, b.State)
	}
	if prev >= nonce {
		return errorsmod.Wrapf(types.ErrBatchNotPending, "batch %d cannot follow batch %d on Ethereum", nonce, prev)
	}
	sdkCtx := sdk.UnwrapSDKContext(ctx)
	height := sdkCtx.BlockHeight()
	pending, err := k.PendingBatches(ctx)
	if err != nil {
		return err
	}
	for _, o := range pending {
		if o.Nonce >= nonce {
			break
		}
		if o.Nonce <= prev {
			// Below prev and still pending: prev's own attestation should have cancelled it. Never cancel on
			// an attestation that does not cover the batch.
			return fmt.Errorf("batch %d is still PENDING below batch %d, which the attestation says executed before %d", o.Nonce, prev, nonce)
		}
		o.State = types.BATCH_STATE_CANCELLED
		o.ClosedHeight = height
		if err := k.Batches.Set(ctx, o.Nonce, o); err != nil {
			return err
		}
		if err := k.queuePrune(ctx, height, types.PruneBatch, o.Nonce); err != nil {
			return err
		}
		for _, id := range o.RecordIds {
			r, err := k.SettlementRecords.Get(ctx, id)
			if err != nil {
				return err
			}
			r.BatchNonce = 0
			if err := k.SettlementRecords.Set(ctx, id, r); err != nil {
				return err
			}
			if err := k.Unbatched.Set(ctx, id); err != nil {
				return err
			}
		}
		if err := sdkCtx.EventManager().EmitTypedEvent(&types.EventBatchCancelled{
			Nonce: o.Nonce, OvertakenBy: nonce, Records: uint32(len(o.RecordIds)),
		}); err != nil {
			return err
		}
	}
	// The newest bridged batch is kept whatever its age: it is the contract's last nonce as the chain knows
	// it, which the next attestation names as its previous batch. The one it overtakes is no longer needed.
	if older, ok, err := k.newestBridged(ctx); err != nil {
		return err
	} else if ok {
		if err := k.queuePrune(ctx, height, types.PruneBatch, older); err != nil {
			return err
		}
	}
	b.State = types.BATCH_STATE_BRIDGED
	b.EthBlock = ethBlock
	b.EthTxHash = txHash
	b.ClosedHeight = height
	if err := k.Batches.Set(ctx, nonce, b); err != nil {
		return err
	}
	if err := k.addBridgedTotal(ctx, b.Total); err != nil {
		return err
	}
	k.logger.Info("settlement batch bridged", "nonce", nonce, "eth_block", ethBlock, "tx", txHash)
	return sdkCtx.EventManager().EmitTypedEvent(&types.EventBatchBridged{Nonce: nonce, EthBlock: ethBlock, EthTxHash: txHash})
}

// checkBridgeInvariant: the bridge escrow holds exactly what bridged records owe (waiting or in a pending
// batch), what bridged batches have paid (BridgedTotal: their records may be pruned, the unro stay locked
// as the backing of the wNRO minted), and the bridged shares already settled to nodes still in a
// placement; every unbatched id is a bridged record with no batch, and every stored pending or bridged
// batch's records name it and add up to its total.
func (k Keeper) checkBridgeInvariant(ctx context.Context, placed sdk.Coins) error {
	states := map[uint64]types.BatchState{}
	if err := k.Batches.Walk(ctx, nil, func(nonce uint64, b types.SettlementBatch) (bool, error) {
		states[nonce] = b.State
		if b.State == types.BATCH_STATE_CANCELLED {
			return false, nil
		}
		sum := math.ZeroInt()
		for _, id := range b.RecordIds {
			r, err := k.SettlementRecords.Get(ctx, id)
			if err != nil {
				return true, fmt.Errorf("batch %d: record %d: %w", nonce, id, err)
			}
			if r.BatchNonce != nonce {
				return true, fmt.Errorf("batch %d holds record %d, which names batch %d", nonce, id, r.BatchNonce)
			}
			sum = sum.Add(r.Amount.Amount)
		}
		if !sum.Equal(b.Total.Amount) {
			return true, fmt.Errorf("batch %d: total %s but its records sum to %s", nonce, b.Total, sum)
		}
		return false, nil
	}); err != nil {
		return err
	}
	bridged, err := k.BridgedTotals(ctx)
	if err != nil {
		return err
	}
	owed := placed.Add(bridged...)
	err = k.SettlementRecords.Walk(ctx, nil, func(id uint64, r types.SettlementRecord) (bool, error) {
		if !r.Bridged {
			return false, nil
		}
		waiting, err := k.Unbatched.Has(ctx, id)
		if err != nil {
			return true, err
		}
		if waiting != (r.BatchNonce == 0) {
			return true, fmt.Errorf("bridged record %d: batch %d but waiting=%t", id, r.BatchNonce, waiting)
		}
		if r.BatchNonce != 0 {
			state, ok := states[r.BatchNonce]
			if !ok {
				return true, fmt.Errorf("bridged record %d names batch %d, which is not stored", id, r.BatchNonce)
			}
			if state == types.BATCH_STATE_BRIDGED {
				return false, nil // counted in BridgedTotal
			}
		}
		owed = owed.Add(r.Amount)
		return false, nil
	})
	if err != nil {
		return err
	}
	balance := k.bk.SpendableCoins(ctx, k.BridgeEscrowAddress())
	if !balance.Equal(owed) {
		return fmt.Errorf("bridge escrow invariant broken: %s holds %s but bridged payouts sum to %s", types.BridgeEscrowName, balance, owed)
	}
	return nil
}

// Batch returns one settlement batch.
func (q queryServer) Batch(ctx context.Context, req *types.QueryBatchRequest) (*types.QueryBatchResponse, error) {
	if req == nil || req.Nonce == 0 {
		return nil, status.Error(codes.InvalidArgument, "nonce: want a batch nonce (1, 2, ...)")
	}
	b, err := q.k.GetBatch(ctx, req.Nonce)
	if errors.Is(err, types.ErrBatchNotFound) {
		if next, err := q.k.BatchSeq.Peek(ctx); err == nil && req.Nonce < next {
			return nil, status.Errorf(codes.NotFound, "%s; the events of the blocks that made and closed it hold its history", types.PrunedBatch(req.Nonce))
		}
	}
	if err != nil {
		return nil, status.Error(codes.NotFound, err.Error())
	}
	return &types.QueryBatchResponse{Batch: b}, nil
}

// Batches lists batches in nonce order, optionally in one state.
func (q queryServer) Batches(ctx context.Context, req *types.QueryBatchesRequest) (*types.QueryBatchesResponse, error) {
	if req == nil {
		req = &types.QueryBatchesRequest{}
	}
	if _, ok := types.BatchState_name[int32(req.State)]; !ok {
		return nil, status.Errorf(codes.InvalidArgument, "state %d: want PENDING, BRIDGED or CANCELLED", req.State)
	}
	var (
		batches []types.SettlementBatch
		page    *query.PageResponse
		err     error
	)
	if req.State != types.BATCH_STATE_UNSPECIFIED {
		batches, page, err = paginateIndex(ctx, q.k.Batches, q.k.Batches.Indexes.State, int32(req.State), req.Pagination,
			func(types.SettlementBatch) bool { return true })
	} else {
		batches, page, err = query.CollectionPaginate(ctx, q.k.Batches, req.Pagination,
			func(_ uint64, b types.SettlementBatch) (types.SettlementBatch, error) { return b, nil })
	}
	if err != nil {
		return nil, status.Error(codes.InvalidArgument, err.Error())
	}
	return &types.QueryBatchesResponse{Batches: batches, Pagination: page}, nil
}
