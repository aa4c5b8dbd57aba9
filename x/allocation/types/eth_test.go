package types_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// eip55Vectors are the test vectors of https://eips.ethereum.org/EIPS/eip-55.
var eip55Vectors = []string{
	// All caps
	"0x52908400098527886E0F7030069857D2E4169EE7",
	"0x8617E340B3D01FA5F11F306F4090FD50E238070D",
	// All lower
	"0xde709f2102306220921060314715629080e2fb77",
	"0x27b1fdb04752bbc536007a920d24acb045561c26",
	// Normal
	"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
	"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
	"0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
	"0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
}

func TestChecksumEthAddress(t *testing.T) {
	for _, want := range eip55Vectors {
		hexPart := want[2:]
		for _, in := range []string{
			want,
			"0x" + strings.ToLower(hexPart),
			"0x" + strings.ToUpper(hexPart),
			strings.ToLower(hexPart), // without 0x
			"0X" + strings.ToUpper(hexPart),
		} {
			got, err := types.ChecksumEthAddress(in)
			require.NoError(t, err, in)
			require.Equal(t, want, got, in)
		}
		require.NoError(t, types.ValidateEthAddress(want))
	}

	for _, bad := range []string{
		"",
		"0x",
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe",   // 39 digits
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAedd", // 41 digits
		"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeZ",  // not hex
		"0x 5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA",
	} {
		_, err := types.ChecksumEthAddress(bad)
		require.Error(t, err, bad)
		require.Contains(t, err.Error(), "40 hex digits", bad)
	}
}

func TestValidateEthAddress(t *testing.T) {
	cases := []struct {
		in       string
		contains []string // empty: valid
	}{
		{in: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"},
		{in: "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"},
		{in: "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed", contains: []string{"EIP-55", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}},
		{in: "0xD1220A0CF47C7B9BE7A2E6BA89F429762E7B9ADB", contains: []string{"EIP-55", "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb"}},
		// One letter's case flipped: a typo the checksum catches.
		{in: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD", contains: []string{"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"}},
		{in: "5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed", contains: []string{"must start with 0x"}},
		{in: "0X5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED", contains: []string{"must start with 0x"}},
		{in: "0x1234", contains: []string{"40 hex digits"}},
		{in: "0x" + strings.Repeat("0", 40), contains: []string{"zero address"}},
	}
	for _, tc := range cases {
		err := types.ValidateEthAddress(tc.in)
		if len(tc.contains) == 0 {
			require.NoError(t, err, tc.in)
			continue
		}
		require.Error(t, err, tc.in)
		require.Contains(t, err.Error(), "eth_address", tc.in)
		for _, s := range tc.contains {
			require.Contains(t, err.Error(), s, tc.in)
		}
	}
}
