package canon_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	addresscodec "github.com/cosmos/cosmos-sdk/codec/address"

	"github.com/consensus-nro/nro/internal/canon"
)

func TestCheck(t *testing.T) {
	codec := addresscodec.NewBech32Codec("nro")
	addr, err := codec.BytesToString(make([]byte, 20))
	require.NoError(t, err)
	require.NoError(t, canon.Check(codec, addr))
	require.ErrorContains(t, canon.Check(codec, strings.ToUpper(addr)), "not in canonical form; write it as "+addr)
	require.Error(t, canon.Check(codec, "nro1notanaddress"))
}
