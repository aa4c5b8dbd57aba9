package simulation_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/simulation"
	allocationtypes "github.com/consensus-nro/nro/x/allocation/types"
)

// The simulated payout addresses are valid EIP-55 addresses that x/allocation accepts, one per operator.
func TestSimPayoutAddress(t *testing.T) {
	seen := map[string]bool{}
	for i := range 50 {
		op := sdk.AccAddress([]byte{byte(i), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19}).String()
		addr := simulation.SimPayoutAddress(op)
		require.NoError(t, allocationtypes.ValidateEthAddress(addr), addr)
		require.Equal(t, addr, simulation.SimPayoutAddress(op))
		require.False(t, seen[addr], "two operators share %s", addr)
		seen[addr] = true
	}
}
