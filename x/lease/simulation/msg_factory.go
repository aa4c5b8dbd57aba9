package simulation

import (
	"context"
	"fmt"
	"slices"

	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/testutil/simsx"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/keeper"
	"github.com/consensus-nro/nro/x/lease/types"
)

// maxLeasesScanned bounds how many leases a factory looks at to pick one.
const maxLeasesScanned = 64

var (
	// gpuModels are real models; a lease for a model no node has simply expires.
	gpuModels = []string{"H100", "A100", "V100", "A10G", "L4", "T4"}
	// candidateRegions are tried for leases that restrict regions; x/allocation decides which are known.
	candidateRegions = []string{"aws:eu-west-1", "aws:us-east-1", "aws:us-west-2", "azure:westeurope", "gcp:us-central1-a"}
)

// MsgCreateLeaseFactory creates a lease with a random spec and a deposit between one and four times the
// minimum, from an account that can pay it. Most leases accept any model and region, so that they can be
// placed.
func MsgCreateLeaseFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgCreateLease] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCreateLease) {
		params, err := k.Params.Get(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		denom, err := k.Allocation().PriceDenom(ctx)
		if err != nil {
			reporter.Skip(err.Error())
			return nil, nil
		}
		r := testData.Rand()
		spec := types.LeaseSpec{
			TotalGpus:          r.Uint32InRange(1, min(16, params.MaxTotalGpus)+1),
			DurationBlocks:     r.Uint64InRange(1, min(params.MaxDurationBlocks, 500)+1),
			MaxPricePerGpuHour: sdk.NewCoin(denom, math.NewInt(int64(r.IntInRange(100_000, 5_000_000)))),
		}
		if r.Intn(4) == 0 {
			spec.GpuModel = gpuModels[r.Intn(len(gpuModels))]
		}
		if r.Intn(5) == 0 {
			regions := slices.Clone(candidateRegions)
			r.Shuffle(len(regions), func(i, j int) { regions[i], regions[j] = regions[j], regions[i] })
			regions = regions[:1+r.Intn(2)]
			slices.Sort(regions)
			if k.Allocation().ValidateLeaseRegions(ctx, regions) == nil {
				spec.Regions = regions
			}
		}
		minDeposit := params.MinDeposit(spec)
		deposit := sdk.NewCoin(denom, minDeposit.MulRaw(int64(1+r.Intn(4))))
		submitter := testData.AnyAccount(reporter, simsx.WithLiquidBalanceGTE(deposit))
		if reporter.IsSkipped() {
			return nil, nil
		}
		// Reserve the deposit so that the random tx fees are drawn from the rest of the balance.
		if !submitter.LiquidBalance().BlockAmount(deposit) {
			reporter.Skip("submitter balance does not cover the deposit")
			return nil, nil
		}
		return []simsx.SimAccount{submitter}, &types.MsgCreateLease{Submitter: submitter.AddressBech32, Spec: spec, Deposit: deposit}
	}
}

// MsgCancelLeaseFactory cancels a random PENDING lease of a simulation account.
func MsgCancelLeaseFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgCancelLease] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCancelLease) {
		lease := randomLease(ctx, k, testData, reporter, types.LEASE_STATE_PENDING)
		submitter := leaseSubmitter(testData, reporter, lease)
		if reporter.IsSkipped() {
			return nil, nil
		}
		return []simsx.SimAccount{submitter}, &types.MsgCancelLease{Submitter: lease.Submitter, LeaseId: lease.Id}
	}
}

// MsgTopUpLeaseFactory tops up a random PENDING or ACTIVE lease from any funded account.
func MsgTopUpLeaseFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgTopUpLease] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgTopUpLease) {
		state := types.LEASE_STATE_PENDING
		if testData.Rand().Bool() {
			state = types.LEASE_STATE_ACTIVE
		}
		lease := randomLease(ctx, k, testData, reporter, state)
		if reporter.IsSkipped() {
			return nil, nil
		}
		if lease.State == types.LEASE_STATE_ACTIVE && lease.DeadlineHeight < sdk.UnwrapSDKContext(ctx).BlockHeight() {
			reporter.Skip("lease is past its deadline and waits to be closed")
			return nil, nil
		}
		sender := testData.AnyAccount(reporter, simsx.WithDenomBalance(lease.Deposit.Denom))
		if reporter.IsSkipped() {
			return nil, nil
		}
		amount := sender.LiquidBalance().RandSubsetCoin(reporter, lease.Deposit.Denom)
		if reporter.IsSkipped() {
			return nil, nil
		}
		return []simsx.SimAccount{sender}, &types.MsgTopUpLease{Sender: sender.AddressBech32, LeaseId: lease.Id, Amount: amount}
	}
}

// MsgCloseLeaseFactory closes a random ACTIVE lease of a simulation account.
func MsgCloseLeaseFactory(k keeper.Keeper) simsx.SimMsgFactoryFn[*types.MsgCloseLease] {
	return func(ctx context.Context, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter) ([]simsx.SimAccount, *types.MsgCloseLease) {
		lease := randomLease(ctx, k, testData, reporter, types.LEASE_STATE_ACTIVE)
		submitter := leaseSubmitter(testData, reporter, lease)
		if reporter.IsSkipped() {
			return nil, nil
		}
		return []simsx.SimAccount{submitter}, &types.MsgCloseLease{Submitter: lease.Submitter, LeaseId: lease.Id}
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

// randomLease picks one of the first leases in a state (by id order).
func randomLease(
	ctx context.Context, k keeper.Keeper, testData *simsx.ChainDataSource, reporter simsx.SimulationReporter, state types.LeaseState,
) types.Lease {
	if reporter.IsSkipped() {
		return types.Lease{}
	}
	iter, err := k.Leases.Indexes.State.MatchExact(ctx, int32(state))
	if err != nil {
		reporter.Skip(err.Error())
		return types.Lease{}
	}
	var ids []uint64
	for ; iter.Valid() && len(ids) < maxLeasesScanned; iter.Next() {
		id, err := iter.PrimaryKey()
		if err != nil {
			break
		}
		ids = append(ids, id)
	}
	_ = iter.Close()
	if len(ids) == 0 {
		reporter.Skip(fmt.Sprintf("no %s lease", state))
		return types.Lease{}
	}
	lease, err := k.GetLease(ctx, ids[testData.Rand().Intn(len(ids))])
	if err != nil {
		reporter.Skip(err.Error())
		return types.Lease{}
	}
	return lease
}

// leaseSubmitter is the simulation account of a lease's submitter.
func leaseSubmitter(testData *simsx.ChainDataSource, reporter simsx.SimulationReporter, lease types.Lease) simsx.SimAccount {
	if reporter.IsSkipped() {
		return simsx.SimAccount{}
	}
	if !testData.HasAccount(lease.Submitter) {
		reporter.Skip("submitter is not a simulation account")
		return simsx.SimAccount{}
	}
	return testData.GetAccount(reporter, lease.Submitter)
}
