package chainclient

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	sdkerrors "github.com/cosmos/cosmos-sdk/types/errors"

	audittypes "github.com/consensus-nro/nro/x/audit/types"
)

func TestChainErrorMatchesItsRegisteredError(t *testing.T) {
	dup := &ChainError{Codespace: "audit", Code: audittypes.ErrDuplicateReport.ABCICode(), Log: "node already reported"}
	wrapped := fmt.Errorf("submit: %w", dup)
	require.ErrorIs(t, wrapped, audittypes.ErrDuplicateReport)
	require.NotErrorIs(t, wrapped, audittypes.ErrInvalidEpoch, "another code of the same codespace")
	require.NotErrorIs(t, wrapped, sdkerrors.ErrInsufficientFee, "code 13 of another codespace")
	require.ErrorIs(t, &ChainError{Codespace: "sdk", Code: 32}, sdkerrors.ErrWrongSequence)
	require.NotErrorIs(t, dup, errors.New("node already reported"), "never by text")
	var ce *ChainError
	require.ErrorAs(t, wrapped, &ce)
	require.Equal(t, "chain refused the transaction (audit 13): node already reported", ce.Error())
}
