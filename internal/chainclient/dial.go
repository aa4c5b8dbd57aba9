package chainclient

import (
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/cosmos/cosmos-sdk/client"
	"github.com/cosmos/cosmos-sdk/codec"
	"github.com/cosmos/cosmos-sdk/crypto/keyring"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/app/params"
)

// Endpoint is a gRPC connection to nrod with the chain's codecs (app/params), and the keyring whose keys
// sign for the daemon. Build a Client per key with Client; Close the endpoint when done.
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
	// The chain's codecs without the app (app/params): the daemons that dial stay small.
	enc, err := params.MakeEncodingConfig()
	if err != nil {
		return nil, err
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(codec.NewProtoCodec(enc.InterfaceRegistry).GRPCCodec())))
	if err != nil {
		return nil, fmt.Errorf("chain gRPC %s: %w", addr, err)
	}
	kr, err := keyring.New(sdk.KeyringServiceName(), keyringBackend, keyringDir, input, enc.Codec)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("keyring (%s in %s): %w", keyringBackend, keyringDir, err), conn.Close())
	}
	return &Endpoint{Conn: conn, TxConfig: enc.TxConfig, Codec: enc.Codec, Keyring: kr}, nil
}

// Client is a transaction client for the key keyName on chain chainID over this endpoint.
func (e *Endpoint) Client(chainID, keyName string) (*Client, error) {
	return New(e.Conn, chainID, e.TxConfig, e.Keyring, keyName)
}

// Close closes the gRPC connection.
func (e *Endpoint) Close() error { return e.Conn.Close() }
