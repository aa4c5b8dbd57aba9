package types_test

import (
	"math/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/math"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/lease/types"
)

func node(id string, gpus uint32, price int64) types.LeaseNode {
	return types.LeaseNode{NodeId: id, Gpus: gpus, PricePerGpuHour: sdk.NewCoin("unro", math.NewInt(price)), Paid: math.ZeroInt()}
}

func requireInt(t *testing.T, want int64, got math.Int) {
	t.Helper()
	require.True(t, got.Equal(math.NewInt(want)), "want %d, got %s", want, got)
}

func TestOwedAndFee(t *testing.T) {
	cases := []struct {
		rate, blocks int64
		bph          uint64
		owed         int64
	}{
		{24_000_000, 1, 600, 40_000},
		{10_000_004, 137, 600, 2_283_334}, // 1370000548 / 600 = 2283334.25
		{10_000_004, 0, 600, 0},
		{10_000_004, -5, 600, 0},
		{1, 599, 600, 0},
		{1, 600, 600, 1},
		{7, 1, 1, 7},
	}
	for _, tc := range cases {
		requireInt(t, tc.owed, types.Owed(math.NewInt(tc.rate), tc.blocks, tc.bph))
	}
	requireInt(t, 57_083, types.Fee(math.NewInt(2_283_334), 250)) // 57083.35
	requireInt(t, 0, types.Fee(math.NewInt(39), 250))             // 0.975
	requireInt(t, 40, types.Fee(math.NewInt(40), 10_000))
	requireInt(t, 0, types.Fee(math.NewInt(40), 0))
	requireInt(t, 4_000_002, types.CeilDiv(math.NewInt(2_400_000_800), math.NewInt(600)))
	requireInt(t, 4_000_000, types.CeilDiv(math.NewInt(2_400_000_000), math.NewInt(600)))
}

func TestDeadlineHeight(t *testing.T) {
	r := types.TotalRate([]types.LeaseNode{node("a", 4, 2_500_001), node("b", 2, 3_000_007), node("c", 1, 1_234_567)})
	require.Equal(t, math.NewInt(17_234_585), r)
	// floor(100000000 × 600 / 17234585) = 3481.
	require.Equal(t, math.NewInt(3_481), types.FundedBlocks(math.NewInt(100_000_000), r, 600))
	require.Equal(t, int64(20+3_481), types.DeadlineHeight(20, 20+10_000, math.NewInt(100_000_000), r, 600))
	// Enough for the whole duration: the end height.
	require.Equal(t, int64(20+3_000), types.DeadlineHeight(20, 20+3_000, math.NewInt(100_000_000), r, 600))
	require.Equal(t, int64(20+3_481), types.DeadlineHeight(20, 20+3_481, math.NewInt(100_000_000), r, 600))
	// A deposit below one block's worth: the deadline is the activation height.
	require.Equal(t, int64(20), types.DeadlineHeight(20, 1_000, math.NewInt(1), r, 600))
}

func TestSettleNodes(t *testing.T) {
	nodes := []types.LeaseNode{node("a", 4, 2_500_001), node("b", 2, 3_000_007), node("c", 1, 1_234_567)}
	ps, err := types.SettleNodes(nodes, 61, 600, 250)
	require.NoError(t, err)
	require.Equal(t, []types.NodePayment{
		{Gross: math.NewInt(1_016_667), Fee: math.NewInt(25_416)},
		{Gross: math.NewInt(610_001), Fee: math.NewInt(15_250)},
		{Gross: math.NewInt(125_514), Fee: math.NewInt(3_137)},
	}, ps)
	for i := range nodes {
		nodes[i].Paid = ps[i].Gross
	}
	ps, err = types.SettleNodes(nodes, 137, 600, 250)
	require.NoError(t, err)
	sum := types.SumPayments(ps)
	require.Equal(t, math.NewInt(3_935_229-1_752_182), sum.Gross)
	require.Equal(t, math.NewInt(98_380-43_803), sum.Fee)
	require.Equal(t, math.NewInt(2_283_334-1_016_667-(57_083-25_416)), ps[0].Provider())

	// Going backwards is refused.
	for i := range nodes {
		nodes[i].Paid = nodes[i].Paid.Add(ps[i].Gross)
	}
	_, err = types.SettleNodes(nodes, 100, 600, 250)
	require.ErrorContains(t, err, "node a: paid 2283334 exceeds the 1666667 owed after 100 blocks")
}

// FuzzSettlement checks the payment arithmetic for random rates, heights and fees: settling in random steps
// pays each node exactly what one settlement at the end pays, fee included; no step pays a negative amount
// or a fee above its amount; and nothing paid ever exceeds the deposit, while one more block past an early
// deadline would. The seed corpus makes it run as a normal test; `go test -fuzz FuzzSettlement` explores.
func FuzzSettlement(f *testing.F) {
	f.Add(uint8(3), uint16(4), uint16(2), uint16(1), uint64(2_500_001), uint64(3_000_007), uint64(1_234_567),
		uint32(600), uint16(250), uint64(100_000_000), uint32(10_000), int64(1))
	f.Add(uint8(1), uint16(8), uint16(0), uint16(0), uint64(3_000_000), uint64(0), uint64(0),
		uint32(600), uint16(200), uint64(48_000_000), uint32(1_200), int64(2))
	f.Add(uint8(2), uint16(1), uint16(1023), uint16(0), uint64(1), uint64(999_999_999_999), uint64(0),
		uint32(3_600_000), uint16(10_000), uint64(1), uint32(1), int64(3))
	f.Add(uint8(3), uint16(7), uint16(13), uint16(29), uint64(599), uint64(601), uint64(1),
		uint32(7), uint16(9_999), uint64(123_456_789_012), uint32(999_999), int64(4))
	f.Add(uint8(2), uint16(1), uint16(1), uint16(1), uint64(1), uint64(1), uint64(1),
		uint32(1), uint16(0), uint64(18_446_744_073_709_551_615), uint32(50), int64(5))

	f.Fuzz(func(t *testing.T, n uint8, g1, g2, g3 uint16, p1, p2, p3 uint64, bph32 uint32, take16 uint16,
		deposit64 uint64, duration32 uint32, seed int64,
	) {
		const maxPrice = 10_000_000_000_000 // 10^13 per GPU-hour
		gpus := []uint16{g1, g2, g3}
		prices := []uint64{p1, p2, p3}
		nodes := make([]types.LeaseNode, 1+int(n)%3)
		for i := range nodes {
			nodes[i] = node(string(rune('a'+i)), 1+uint32(gpus[i])%1024, int64(1+prices[i]%maxPrice))
		}
		bph := 1 + uint64(bph32)%types.MaxBlocksPerHour
		take := uint32(take16) % (types.BpsDenominator + 1)
		deposit := math.NewIntFromUint64(deposit64).AddRaw(1)
		const activated = int64(100)
		end := activated + 1 + int64(duration32)%1_000_000
		rate := types.TotalRate(nodes)
		deadline := types.DeadlineHeight(activated, end, deposit, rate, bph)
		require.GreaterOrEqual(t, deadline, activated)
		require.LessOrEqual(t, deadline, end)

		// One settlement at the deadline.
		oneShot, err := types.SettleNodes(nodes, deadline-activated, bph, take)
		require.NoError(t, err)
		total := types.SumPayments(oneShot)
		require.True(t, total.Gross.LTE(deposit), "paid %s exceeds the deposit %s", total.Gross, deposit)
		if deadline < end {
			// The deposit does not cover one more block at the total rate.
			next := rate.Mul(math.NewInt(deadline - activated + 1))
			require.True(t, next.GT(deposit.Mul(math.NewIntFromUint64(bph))), "deadline %d is not where the deposit runs out", deadline)
		}

		// The same lease settled in random steps, some past the deadline (charged only to it).
		rng := rand.New(rand.NewSource(seed))
		stepped := make([]types.LeaseNode, len(nodes))
		copy(stepped, nodes)
		sums := make([]types.NodePayment, len(nodes))
		for i := range sums {
			sums[i] = types.NodePayment{Gross: math.ZeroInt(), Fee: math.ZeroInt()}
		}
		for h := activated; h <= end+5; h += 1 + rng.Int63n(max(1, (end-activated)/4)) {
			blocks := min(h, deadline) - activated
			ps, err := types.SettleNodes(stepped, blocks, bph, take)
			require.NoError(t, err)
			paid := math.ZeroInt()
			for i, p := range ps {
				require.False(t, p.Gross.IsNegative())
				require.False(t, p.Fee.IsNegative())
				require.True(t, p.Fee.LTE(p.Gross), "fee %s above the amount %s", p.Fee, p.Gross)
				stepped[i].Paid = stepped[i].Paid.Add(p.Gross)
				sums[i].Gross = sums[i].Gross.Add(p.Gross)
				sums[i].Fee = sums[i].Fee.Add(p.Fee)
				paid = paid.Add(stepped[i].Paid)
			}
			require.True(t, paid.LTE(deposit), "paid %s exceeds the deposit %s at height %d", paid, deposit, h)
		}
		// A final settlement at the deadline, as the close does.
		ps, err := types.SettleNodes(stepped, deadline-activated, bph, take)
		require.NoError(t, err)
		for i, p := range ps {
			sums[i].Gross = sums[i].Gross.Add(p.Gross)
			sums[i].Fee = sums[i].Fee.Add(p.Fee)
		}
		for i := range nodes {
			require.True(t, oneShot[i].Gross.Equal(sums[i].Gross), "node %d: stepped %s, one shot %s", i, sums[i].Gross, oneShot[i].Gross)
			require.True(t, oneShot[i].Fee.Equal(sums[i].Fee), "node %d fee: stepped %s, one shot %s", i, sums[i].Fee, oneShot[i].Fee)
			// The record at close computes the fee from the node's total; it matches the fees paid.
			require.True(t, types.Fee(sums[i].Gross, take).Equal(sums[i].Fee))
		}
	})
}
