package keeper_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/runtime"
	storetypes "github.com/cosmos/cosmos-sdk/store/v2/types"

	sdk "github.com/cosmos/cosmos-sdk/types"
	"github.com/cosmos/cosmos-sdk/types/bech32"
	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	"github.com/consensus-nro/nro/x/lease/keeper"
	"github.com/consensus-nro/nro/x/lease/testutil"
	"github.com/consensus-nro/nro/x/lease/types"
)

func TestCreateLease(t *testing.T) {
	f := testutil.NewFixture(t)
	sub, subStr := f.Addr("submitter")
	msg := f.ValidCreateMsg(subStr)
	msg.Spec.GpuModel = "H100"
	msg.Spec.MinGpuMemoryMib = 81920
	msg.Spec.MaxGpusPerNode = 4
	msg.Spec.Regions = []string{"aws:us-east-1", "aws:us-west-2"}
	msg.Spec.MinBandwidthMbps = 25_000
	msg.Spec.MaxRttMs = 40
	f.Fund(sub, unro(48_000_005))

	res, err := f.MsgServer.CreateLease(f.Ctx, msg)
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.LeaseId)
	want := types.Lease{
		Id:             1,
		Submitter:      subStr,
		Spec:           msg.Spec,
		Deposit:        unro(48_000_000),
		State:          types.LEASE_STATE_PENDING,
		TakeBps:        200,
		BlocksPerHour:  600,
		CreatedHeight:  testutil.StartHeight,
		DeadlineHeight: testutil.StartHeight + 600,
		Paid:           zero,
		Fees:           zero,
		Refunded:       zero,
	}
	require.Equal(t, want, f.Lease(1))
	require.Equal(t, int64(5), bal(f, sub))
	require.Equal(t, int64(48_000_000), f.ModuleBalance().Int64())
	require.Equal(t, []collectionsPair{dl(610, 1)}, deadlines(t, f))
	require.Equal(t, []testutil.AllocationCall{{Method: "EnqueueLease", LeaseID: 1}}, f.Alloc.Calls)
	requireEvents(t, f, &types.EventLeaseCreated{
		LeaseId: 1, Submitter: subStr, Spec: msg.Spec, Deposit: unro(48_000_000), ExpiresHeight: 610,
	})
	f.RequireInvariant()

	// Ids increase; the deposit may be exactly the minimum, rounded up:
	// ceil(8 × 3000001 × 100 / 600) = ceil(4000001.33) = 4000002.
	f.NextBlock(1)
	msg2 := f.ValidCreateMsg(subStr)
	msg2.Spec.MaxPricePerGpuHour = unro(3_000_001)
	msg2.Deposit = unro(4_000_002)
	l2 := f.CreateLease(msg2)
	require.Equal(t, uint64(2), l2.Id)
	require.Equal(t, int64(611), l2.DeadlineHeight)
	require.Equal(t, []collectionsPair{dl(610, 1), dl(611, 2)}, deadlines(t, f))
	f.RequireInvariant()

	// Locked terms do not follow later param changes.
	p := f.Params()
	p.TakeBps = 9_000
	p.BlocksPerHour = 1
	f.SetParams(p)
	require.Equal(t, uint32(200), f.Lease(1).TakeBps)
	require.Equal(t, uint64(600), f.Lease(1).BlocksPerHour)
}

// TestCreateLeaseCanonicalSubmitter: an upper-case address is stored in canonical lower-case form, so the
// submitter can cancel with either spelling.
func TestCreateLeaseCanonicalSubmitter(t *testing.T) {
	f := testutil.NewFixture(t)
	sub, subStr := f.Addr("submitter")
	f.Fund(sub, unro(48_000_000))
	res, err := f.MsgServer.CreateLease(f.Ctx, f.ValidCreateMsg(strings.ToUpper(subStr)))
	require.NoError(t, err)
	require.Equal(t, subStr, f.Lease(res.LeaseId).Submitter)
	_, err = f.MsgServer.CancelLease(f.Ctx, &types.MsgCancelLease{Submitter: strings.ToUpper(subStr), LeaseId: res.LeaseId})
	require.NoError(t, err)
}

func TestCreateLeaseRejected(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(f *testutil.Fixture, m *types.MsgCreateLease)
		err    error
		// stateless cases are refused by ValidateBasic too.
		stateless bool
		contains  []string
	}{
		{
			name:      "submitter is not bech32",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Submitter = "not-an-address" },
			err:       types.ErrInvalidAddress,
			stateless: true,
			contains:  []string{"submitter", "not-an-address"},
		},
		{
			name: "submitter has another chain's prefix",
			mutate: func(f *testutil.Fixture, m *types.MsgCreateLease) {
				s, err := bech32.ConvertAndEncode("cosmos", f.MustAccAddress(m.Submitter))
				require.NoError(f.T, err)
				m.Submitter = s
			},
			err:       types.ErrInvalidAddress,
			stateless: true,
			contains:  []string{"submitter", "cosmos1"},
		},
		{
			name:      "zero GPUs",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.TotalGpus = 0 },
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{"spec.total_gpus must be at least 1"},
		},
		{
			name: "more GPUs than max_total_gpus",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.TotalGpus = 1025
				m.Deposit = unro(1_000_000_000)
			},
			err:      types.ErrInvalidSpec,
			contains: []string{"spec.total_gpus 1025 exceeds max_total_gpus 1024"},
		},
		{
			name:      "lower-case model",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.GpuModel = "h100" },
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{`spec.gpu_model "h100"`, "upper-case", "leave it empty"},
		},
		{
			name:      "model with a space",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.GpuModel = "RTX 4090" },
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{`"RTX 4090"`},
		},
		{
			name:      "max_gpus_per_node above total",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.MaxGpusPerNode = 9 },
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{"max_gpus_per_node 9 exceeds total_gpus 8", "0 for no cap"},
		},
		{
			name: "unsorted regions",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.Regions = []string{"aws:us-west-2", "aws:us-east-1"}
			},
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{"sorted and unique", `"aws:us-east-1" comes after "aws:us-west-2"`},
		},
		{
			name: "duplicate regions",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.Regions = []string{"aws:us-east-1", "aws:us-east-1"}
			},
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{"sorted and unique"},
		},
		{
			name:      "empty region",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.Regions = []string{""} },
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{"spec.regions[0]", "aws:us-east-1"},
		},
		{
			name: "unknown region (x/allocation refuses)",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.Regions = []string{"aws:us-east-1", "mars:olympus-1"}
			},
			contains: []string{`unknown region "mars:olympus-1"`},
		},
		{
			name:      "duration 0",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.DurationBlocks = 0 },
			err:       types.ErrInvalidSpec,
			stateless: true,
			contains:  []string{"spec.duration_blocks must be at least 1"},
		},
		{
			name:     "duration too long",
			mutate:   func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.DurationBlocks = 5_256_001 },
			err:      types.ErrInvalidSpec,
			contains: []string{"spec.duration_blocks 5256001 exceeds max_duration_blocks 5256000", "about 365 days"},
		},
		{
			name:      "zero max price",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Spec.MaxPricePerGpuHour = unro(0) },
			err:       types.ErrInvalidPrice,
			stateless: true,
			contains:  []string{"spec.max_price_per_gpu_hour must be positive"},
		},
		{
			name: "max price without denom",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.MaxPricePerGpuHour = sdk.Coin{Amount: math.NewInt(5)}
			},
			err:       types.ErrInvalidPrice,
			stateless: true,
			contains:  []string{"spec.max_price_per_gpu_hour"},
		},
		{
			name: "max price too large",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.MaxPricePerGpuHour = sdk.NewCoin("unro", types.MaxPriceAmount.AddRaw(1))
			},
			err:       types.ErrInvalidPrice,
			stateless: true,
			contains:  []string{"exceeds the largest price"},
		},
		{
			name: "max price in the wrong denom",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.MaxPricePerGpuHour = sdk.NewCoin("uatom", math.NewInt(3_000_000))
			},
			err:      types.ErrInvalidPrice,
			contains: []string{`denom "uatom"`, "prices are in unro"},
		},
		{
			name:      "zero deposit",
			mutate:    func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Deposit = unro(0) },
			err:       types.ErrInvalidDeposit,
			stateless: true,
			contains:  []string{"deposit must be positive"},
		},
		{
			name: "deposit in the wrong denom",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Deposit = sdk.NewCoin("uatom", math.NewInt(48_000_000))
			},
			err:      types.ErrInvalidDeposit,
			contains: []string{`deposit denom "uatom"`, "deposits are in unro"},
		},
		{
			// ceil(8 × 3000000 × 100 / 600) = 4000000 exactly.
			name:     "deposit one below the minimum",
			mutate:   func(_ *testutil.Fixture, m *types.MsgCreateLease) { m.Deposit = unro(3_999_999) },
			err:      types.ErrInsufficientDeposit,
			contains: []string{"deposit 3999999unro is below the minimum 4000000unro", "8 GPUs × 3000000unro per GPU-hour × min_deposit_blocks 100 / blocks_per_hour 600"},
		},
		{
			// ceil(8 × 3000001 × 100 / 600) = ceil(4000001.33) = 4000002.
			name: "deposit below the rounded-up minimum",
			mutate: func(_ *testutil.Fixture, m *types.MsgCreateLease) {
				m.Spec.MaxPricePerGpuHour = unro(3_000_001)
				m.Deposit = unro(4_000_001)
			},
			err:      types.ErrInsufficientDeposit,
			contains: []string{"below the minimum 4000002unro", "rounded up"},
		},
		{
			name: "submitter cannot pay the deposit",
			mutate: func(f *testutil.Fixture, m *types.MsgCreateLease) {
				m.Deposit = unro(48_000_001) // funded with 48000000
			},
			err:      sdkerrors.ErrInsufficientFunds,
			contains: []string{"escrow deposit 48000001unro"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := testutil.NewFixture(t)
			sub, subStr := f.Addr("submitter")
			f.Fund(sub, unro(48_000_000), sdk.NewCoin("uatom", math.NewInt(48_000_000)))
			// An existing lease, so that "no change" covers other leases too.
			other, otherStr := f.Addr("other")
			f.CreateLease(f.ValidCreateMsg(otherStr))
			f.ResetEvents()
			f.Alloc.ResetCalls()

			msg := f.ValidCreateMsg(subStr)
			tc.mutate(f, msg)
			before := snapshot(t, f, sub, other)
			_, err := f.MsgServer.CreateLease(f.Ctx, msg)
			require.Error(t, err)
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
			}
			for _, s := range tc.contains {
				require.Contains(t, err.Error(), s)
			}
			requireUnchanged(t, f, before)

			vbErr := msg.ValidateBasic()
			if tc.stateless {
				require.ErrorIs(t, vbErr, tc.err, "ValidateBasic")
			} else {
				require.NoError(t, vbErr, "ValidateBasic must leave stateful checks to the keeper")
			}
		})
	}
}

// TestCreateLeaseAllocationRefuses: when x/allocation cannot queue the lease, the creation fails; the tx
// then reverts everything, as a cached context shows.
func TestCreateLeaseAllocationRefuses(t *testing.T) {
	f := testutil.NewFixture(t)
	sub, subStr := f.Addr("submitter")
	f.Fund(sub, unro(48_000_000))
	queueFull := errors.New("allocation queue is full")
	f.Alloc.EnqueueLeaseFn = func(context.Context, uint64) error { return queueFull }
	before := snapshot(t, f, sub)
	cacheCtx, _ := f.Ctx.CacheContext()
	_, err := f.Keeper.CreateLease(cacheCtx, f.ValidCreateMsg(subStr))
	require.ErrorIs(t, err, queueFull)
	require.Contains(t, err.Error(), "enqueue lease 1 for allocation")
	f.Alloc.ResetCalls()
	before.calls = 0
	requireUnchanged(t, f, before)
}

// TestAllocationKeeperWiring: a keeper the app forgot to wire panics with a message saying what to do; once
// set, copies of the keeper made before share it.
func TestAllocationKeeperWiring(t *testing.T) {
	f := testutil.NewFixture(t)
	k := f.Keeper
	require.PanicsWithValue(t, "x/lease: AllocationKeeper is already set", func() { k.SetAllocationKeeper(testutil.NewFakeAllocationKeeper()) })

	bare := keeper.NewKeeper(f.Codec, runtime.NewKVStoreService(storetypes.NewKVStoreKey(types.StoreKey)), log.NewNopLogger(),
		f.AccountKeeper, f.BankKeeper, f.Authority)
	copied := bare
	require.PanicsWithValue(t, "x/lease: AllocationKeeper is not set; call Keeper.SetAllocationKeeper during app wiring",
		func() { copied.Allocation() })
	alloc := testutil.NewFakeAllocationKeeper()
	bare.SetAllocationKeeper(alloc)
	require.Same(t, alloc, copied.Allocation().(*testutil.FakeAllocationKeeper))
	require.Panics(t, func() { bare.SetAllocationKeeper(nil) })

	require.PanicsWithError(t, `x/lease: invalid authority "gov": decoding bech32 failed: invalid bech32 string length 3`, func() {
		keeper.NewKeeper(f.Codec, runtime.NewKVStoreService(storetypes.NewKVStoreKey(types.StoreKey)), log.NewNopLogger(),
			f.AccountKeeper, f.BankKeeper, "gov")
	})
}
