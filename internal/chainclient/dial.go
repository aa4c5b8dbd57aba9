package chainclient

import (
	"errors"
	"fmt"
	"io"
	"os"

	dbm "github.com/cosmos/cosmos-db"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"cosmossdk.io/log/v2"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	simtestutil "github.com/cosmos/cosmos-sdk/testutil/sims"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/app"
)

// Endpoint is a gRPC connection to nrod with the app's codecs, and the keyring whose keys sign for the
// daemon. Build a Client per key with Client; Close the endpoint when done.
type Endpoint struct {
	Conn     *grpc.ClientConn
	TxConfig client.TxConfig
	Codec    codec.Codec
	Keyring  keyring.Keyring
}

// Dial prepares a connection to nrod's gRPC at addr (host:port, plaintext: nrod's gRPC server has no TLS; put
// it on 127.0.0.1 or behind a TLS proxy) and opens the keyring (backend os, file, test, …, in keyringDir;
// input answers passphrase prompts of the file backend). gRPC connects lazily: an unreachable chain shows in
// the first call, not here.
func Dial(addr, keyringBackend, keyringDir string, input io.Reader) (*Endpoint, error) {
	// A throwaway app gives the codecs of every message and query the chain knows.
	tmp, err := os.MkdirTemp("", "nro-chainclient-codec")
	if err != nil {
		return nil, err
	}
	// Not loaded (false): loading would start the stores' background work, which the codecs do not need.
	codecApp := app.New(log.NewNopLogger(), dbm.NewMemDB(), false, simtestutil.NewAppOptionsWithFlagHome(tmp))
	if err := os.RemoveAll(tmp); err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(codecApp.InterfaceRegistry()).GRPCCodec())))
	if err != nil {
		return nil, fmt.Errorf("chain gRPC %s: %w", addr, err)
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), keyringBackend, keyringDir, input, codecApp.AppCodec())
	if err != nil {
		return nil, errors.Join(fmt.Errorf("keyring (%s in %s): %w", keyringBackend, keyringDir, err), conn.Close())
	}
	return &Endpoint{Conn: conn, TxConfig: codecApp.TxConfig(), Codec: codecApp.AppCodec(), Keyring: kr}, nil
}

// Client is a transaction client for the key keyName on chain chainID over this endpoint.
func (e *Endpoint) Client(chainID, keyName string) (*Client, error) {
	return New(e.Conn, chainID, e.TxConfig, e.Keyring, keyName)
}

// Close closes the gRPC connection.
func (e *Endpoint) Close() error { return e.Conn.Close() }
