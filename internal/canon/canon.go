// Package canon checks that a bech32 address is written in the canonical (lower-case) form the keepers
// store, so that state imported from genesis is recognised when the same account later signs.
package canon

import (
	"fmt"

	"cosmossdk.io/core/address"
)

// Check returns an error naming the canonical form unless addr is a valid address written in it.
func Check(addrCodec address.Codec, addr string) error {
	bz, err := addrCodec.StringToBytes(addr)
	if err != nil {
		return err
	}
	canonical, err := addrCodec.BytesToString(bz)
	if err != nil {
		return err
	}
	if canonical != addr {
		return fmt.Errorf("not in canonical form; write it as %s", canonical)
	}
	return nil
}
