package types

import (
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/sha3"
)

// ChecksumEthAddress returns the EIP-55 mixed-case checksum form of a 20-byte hex address (with or
// without 0x, any case). It returns an error when the input is not 40 hex digits.
func ChecksumEthAddress(addr string) (string, error) {
	hexPart := strings.TrimPrefix(strings.TrimPrefix(addr, "0x"), "0X")
	if len(hexPart) != 40 {
		return "", fmt.Errorf("want 0x followed by 40 hex digits, got %d digits", len(hexPart))
	}
	lower := strings.ToLower(hexPart)
	if _, err := hex.DecodeString(lower); err != nil {
		return "", fmt.Errorf("want 0x followed by 40 hex digits: %w", err)
	}
	h := sha3.NewLegacyKeccak256()
	h.Write([]byte(lower))
	digest := h.Sum(nil)
	out := []byte(lower)
	for i, c := range out {
		if c < 'a' || c > 'f' {
			continue
		}
		nibble := digest[i/2]
		if i%2 == 0 {
			nibble >>= 4
		}
		if nibble&0x0f >= 8 {
			out[i] = c - 'a' + 'A'
		}
	}
	return "0x" + string(out), nil
}

// ValidateEthAddress accepts only the exact EIP-55 checksummed 0x form, so that a typo in a payout address
// is caught before money is sent to it.
func ValidateEthAddress(addr string) error {
	if !strings.HasPrefix(addr, "0x") {
		return fmt.Errorf("eth_address %q: must start with 0x", addr)
	}
	want, err := ChecksumEthAddress(addr)
	if err != nil {
		return fmt.Errorf("eth_address %q: %w", addr, err)
	}
	if addr != want {
		return fmt.Errorf("eth_address %q: not in EIP-55 checksummed form; if the address is right, write it as %s", addr, want)
	}
	if strings.TrimPrefix(want, "0x") == strings.Repeat("0", 40) {
		return fmt.Errorf("eth_address: the zero address cannot receive payouts")
	}
	return nil
}
