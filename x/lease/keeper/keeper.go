// Package keeper holds x/lease's state and logic: leases, their escrowed deposits, lazy payment of the
// providers, the deadline queue that closes and expires leases, and the settlement records of closed leases.
package keeper

import (
	"context"
	"errors"
	"fmt"

	"cosmossdk.io/collections"
	"cosmossdk.io/collections/indexes"
	"cosmossdk.io/core/address"
	"cosmossdk.io/core/store"
	"cosmossdk.io/log/v2"
	"cosmossdk.io/math"

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/internal/collx"
	"github.com/consensus-nro/nro/x/lease/types"
)

// LeaseIndexes are the secondary indexes of the leases, so that queries, EndBlock and other modules narrow by
// submitter, state or node without scanning every lease.
type LeaseIndexes struct {
	Submitter *indexes.Multi[sdk.AccAddress, uint64, types.Lease]
	State     *indexes.Multi[int32, uint64, types.Lease]
	// Node has one entry per distinct node of a lease's current and past placements.
	Node *collx.MultiIndex[string, uint64, types.Lease]
	// ActiveNode has one entry per distinct node of an ACTIVE lease's current placement, so that a node's
	// running leases are found without walking its history.
	ActiveNode *collx.MultiIndex[string, uint64, types.Lease]
}

// IndexesList implements collections.Indexes. The indexes are behind one that reads the lease's old value
// once for all of them (collections would otherwise read and decode it once per index on every write), and
// the submitter and state indexes are left alone when a write keeps the field they index (a write of an
// active lease — payment, settlement — changes neither, and the submitter index decodes two bech32
// addresses per write).
func (i LeaseIndexes) IndexesList() []collections.Index[uint64, types.Lease] {
	return []collections.Index[uint64, types.Lease]{sharedOldLease{
		skipUnchangedLease[string]{i.Submitter, func(l types.Lease) string { return l.Submitter }},
		skipUnchangedLease[types.LeaseState]{i.State, func(l types.Lease) types.LeaseState { return l.State }},
		i.Node,
		i.ActiveNode,
	}}
}

// skipUnchangedLease leaves an index alone when a write of a lease keeps the field it indexes: its entry is
// already there.
type skipUnchangedLease[F comparable] struct {
	collections.Index[uint64, types.Lease]
	field func(types.Lease) F
}

func (s skipUnchangedLease[F]) Reference(ctx context.Context, pk uint64, v types.Lease, lazyOld func() (types.Lease, error)) error {
	if old, err := lazyOld(); err == nil && s.field(old) == s.field(v) {
		return nil
	}
	return s.Index.Reference(ctx, pk, v, lazyOld)
}

// sharedOldLease updates several indexes of the leases with one read of the old value.
type sharedOldLease []collections.Index[uint64, types.Lease]

func onceLease(get func() (types.Lease, error)) func() (types.Lease, error) {
	var (
		v    types.Lease
		err  error
		done bool
	)
	return func() (types.Lease, error) {
		if !done {
			v, err = get()
			done = true
		}
		return v, err
	}
}

func (s sharedOldLease) Reference(ctx context.Context, pk uint64, v types.Lease, lazyOld func() (types.Lease, error)) error {
	old := onceLease(lazyOld)
	for _, idx := range s {
		if err := idx.Reference(ctx, pk, v, old); err != nil {
			return err
		}
	}
	return nil
}

func (s sharedOldLease) Unreference(ctx context.Context, pk uint64, lazyOld func() (types.Lease, error)) error {
	old := onceLease(lazyOld)
	for _, idx := range s {
		if err := idx.Unreference(ctx, pk, old); err != nil {
			return err
		}
	}
	return nil
}

func newLeaseIndexes(sb *collections.SchemaBuilder, addrCodec address.Codec) LeaseIndexes {
	return LeaseIndexes{
		Submitter: indexes.NewMulti(sb, types.LeasesBySubmitterKey, "leases_by_submitter",
			sdk.AccAddressKey, collections.Uint64Key,
			func(_ uint64, l types.Lease) (sdk.AccAddress, error) {
				return addrCodec.StringToBytes(l.Submitter)
			}),
		State: indexes.NewMulti(sb, types.LeasesByStateKey, "leases_by_state",
			collections.Int32Key, collections.Uint64Key,
			func(_ uint64, l types.Lease) (int32, error) { return int32(l.State), nil }),
		Node: collx.NewMultiIndex(sb, types.LeasesByNodeKey, "leases_by_node",
			collections.StringKey, collections.Uint64Key,
			func(_ uint64, l types.Lease) ([]string, error) { return l.EverNodeIDs(), nil }),
		ActiveNode: collx.NewMultiIndex(sb, types.LeasesByActiveNodeKey, "leases_by_active_node",
			collections.StringKey, collections.Uint64Key,
			func(_ uint64, l types.Lease) ([]string, error) {
				if l.State != types.LEASE_STATE_ACTIVE {
					return nil, nil
				}
				return l.NodeIDs(), nil
			}),
	}
}

// RecordIndexes are the secondary indexes of the settlement records.
type RecordIndexes struct {
	Lease *indexes.Multi[uint64, uint64, types.SettlementRecord]
	Node  *indexes.Multi[string, uint64, types.SettlementRecord]
}

// IndexesList implements collections.Indexes.
func (i RecordIndexes) IndexesList() []collections.Index[uint64, types.SettlementRecord] {
	return []collections.Index[uint64, types.SettlementRecord]{i.Lease, i.Node}
}

func newRecordIndexes(sb *collections.SchemaBuilder) RecordIndexes {
	return RecordIndexes{
		Lease: indexes.NewMulti(sb, types.SettlementRecordsByLeaseKey, "settlement_records_by_lease",
			collections.Uint64Key, collections.Uint64Key,
			func(_ uint64, r types.SettlementRecord) (uint64, error) { return r.LeaseId, nil }),
		Node: indexes.NewMulti(sb, types.SettlementRecordsByNodeKey, "settlement_records_by_node",
			collections.StringKey, collections.Uint64Key,
			func(_ uint64, r types.SettlementRecord) (string, error) { return r.NodeId, nil }),
	}
}

// allocRef holds the AllocationKeeper behind a pointer: x/allocation and x/lease depend on each other, so the
// app sets it after building both keepers, and every copy of the Keeper (module, msg server, x/allocation's
// own reference) must see it.
type allocRef struct {
	k types.AllocationKeeper
}

// Keeper is the x/lease keeper.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	logger       log.Logger
	ak           types.AccountKeeper
	bk           types.BankKeeper
	addrCodec    address.Codec
	alloc        *allocRef
	// authority is the account allowed to change params: the gov module account.
	authority string

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Leases maps lease id to lease.
	Leases *collections.IndexedMap[uint64, types.Lease, LeaseIndexes]
	// LeaseSeq is the next lease id; it starts at 1.
	LeaseSeq collections.Sequence
	// Deadlines holds (deadline height, lease id) for every PENDING lease (its expiry) and every ACTIVE lease
	// (its end or the exhaustion of its deposit); EndBlock walks it in order.
	Deadlines collections.KeySet[collections.Pair[int64, uint64]]
	// SettlementRecords maps record id to what one node earned from one closed lease.
	SettlementRecords *collections.IndexedMap[uint64, types.SettlementRecord, RecordIndexes]
	// RecordSeq is the next settlement record id; it starts at 1.
	RecordSeq collections.Sequence
	// Batches maps nonce to settlement batch, indexed by state.
	Batches *collections.IndexedMap[uint64, types.SettlementBatch, BatchIndexes]
	// BatchSeq is the next batch nonce; it starts at 1.
	BatchSeq collections.Sequence
	// Unbatched holds the ids of bridged settlement records waiting for a batch, oldest first.
	Unbatched collections.KeySet[uint64]
	// LastBatchHeight is the height of the last batch made.
	LastBatchHeight collections.Item[int64]
	// Prunes queues (height, kind, id) of every ended lease (from its closed height) and every batch no
	// longer needed (a cancelled one from its cancellation, a bridged one from the height a newer batch was
	// bridged); EndBlock prunes each retention_blocks later (prune.go).
	Prunes collections.KeySet[PruneKey]
	// BridgedTotal maps a denom to the sum of the totals of every batch ever bridged, pruned ones included.
	BridgedTotal collections.Map[string, math.Int]
}

// PruneKey is (height, kind, id): the height an object stopped being needed, types.PruneLease or
// types.PruneBatch, and the lease id or batch nonce.
type PruneKey = collections.Triple[int64, int32, uint64]

// BatchIndexes are the secondary indexes of the settlement batches.
type BatchIndexes struct {
	State *indexes.Multi[int32, uint64, types.SettlementBatch]
}

// IndexesList implements collections.Indexes.
func (i BatchIndexes) IndexesList() []collections.Index[uint64, types.SettlementBatch] {
	return []collections.Index[uint64, types.SettlementBatch]{i.State}
}

func newBatchIndexes(sb *collections.SchemaBuilder) BatchIndexes {
	return BatchIndexes{
		State: indexes.NewMulti(sb, types.BatchesByStateKey, "batches_by_state",
			collections.Int32Key, collections.Uint64Key,
			func(_ uint64, b types.SettlementBatch) (int32, error) { return int32(b.State), nil }),
	}
}

// NewKeeper builds the keeper. It panics on a malformed authority or a missing module account, as the SDK's
// keepers do. The AllocationKeeper is set afterwards with SetAllocationKeeper.
func NewKeeper(
	cdc codec.BinaryCodec,
	storeService store.KVStoreService,
	logger log.Logger,
	ak types.AccountKeeper,
	bk types.BankKeeper,
	authority string,
) Keeper {
	addrCodec := ak.AddressCodec()
	if _, err := addrCodec.StringToBytes(authority); err != nil {
		panic(fmt.Errorf("x/lease: invalid authority %q: %w", authority, err))
	}
	if ak.GetModuleAddress(types.ModuleName) == nil || ak.GetModuleAddress(types.BridgeEscrowName) == nil {
		panic("x/lease: the lease and lease_bridge module accounts must be set in the account keeper's permissions")
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		logger:       logger.With("module", "x/"+types.ModuleName),
		ak:           ak,
		bk:           bk,
		addrCodec:    addrCodec,
		alloc:        &allocRef{},
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Leases: collections.NewIndexedMap(sb, types.LeasesKey, "leases", collections.Uint64Key,
			codec.CollValue[types.Lease](cdc), newLeaseIndexes(sb, addrCodec)),
		LeaseSeq: collections.NewSequence(sb, types.LeaseSeqKey, "lease_seq"),
		Deadlines: collections.NewKeySet(sb, types.DeadlinesKey, "deadlines",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		SettlementRecords: collections.NewIndexedMap(sb, types.SettlementRecordsKey, "settlement_records",
			collections.Uint64Key, codec.CollValue[types.SettlementRecord](cdc), newRecordIndexes(sb)),
		RecordSeq: collections.NewSequence(sb, types.RecordSeqKey, "record_seq"),
		Batches: collections.NewIndexedMap(sb, types.BatchesKey, "batches", collections.Uint64Key,
			codec.CollValue[types.SettlementBatch](cdc), newBatchIndexes(sb)),
		BatchSeq:        collections.NewSequence(sb, types.BatchSeqKey, "batch_seq"),
		Unbatched:       collections.NewKeySet(sb, types.UnbatchedKey, "unbatched", collections.Uint64Key),
		LastBatchHeight: collections.NewItem(sb, types.LastBatchHeightKey, "last_batch_height", collections.Int64Value),
		Prunes: collections.NewKeySet(sb, types.PrunesKey, "prunes",
			collections.TripleKeyCodec(collections.Int64Key, collections.Int32Key, collections.Uint64Key)),
		BridgedTotal: collections.NewMap(sb, types.BridgedTotalKey, "bridged_total", collections.StringKey, sdk.IntValue),
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetAllocationKeeper sets x/allocation's keeper. The app calls it once while wiring, after both keepers
// exist; every copy of this Keeper sees it.
func (k *Keeper) SetAllocationKeeper(a types.AllocationKeeper) {
	if a == nil {
		panic("x/lease: SetAllocationKeeper called with nil")
	}
	if k.alloc.k != nil {
		panic("x/lease: AllocationKeeper is already set")
	}
	k.alloc.k = a
}

// Allocation returns x/allocation's keeper. It panics when the app has not called SetAllocationKeeper: the
// module cannot work without it.
func (k Keeper) Allocation() types.AllocationKeeper {
	if k.alloc == nil || k.alloc.k == nil {
		panic("x/lease: AllocationKeeper is not set; call Keeper.SetAllocationKeeper during app wiring")
	}
	return k.alloc.k
}

// Authority returns the params authority.
func (k Keeper) Authority() string { return k.authority }

// AddressCodec returns the account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addrCodec }

// Logger returns the module logger.
func (k Keeper) Logger() log.Logger { return k.logger }

// ModuleAddress is the module account holding every lease's escrow.
func (k Keeper) ModuleAddress() sdk.AccAddress { return k.ak.GetModuleAddress(types.ModuleName) }

// BridgeEscrowAddress is the module account holding the providers' shares paid through the bridge.
func (k Keeper) BridgeEscrowAddress() sdk.AccAddress {
	return k.ak.GetModuleAddress(types.BridgeEscrowName)
}

// GetParams returns the current params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

// GetLease returns a lease by id, or ErrLeaseNotFound.
func (k Keeper) GetLease(ctx context.Context, id uint64) (types.Lease, error) {
	l, err := k.Leases.Get(ctx, id)
	if err != nil {
		if errors.Is(err, collections.ErrNotFound) {
			return types.Lease{}, types.ErrLeaseNotFound.Wrapf("no lease with id %d", id)
		}
		return types.Lease{}, err
	}
	return l, nil
}

// canonicalAddress returns the bytes and the canonical (lower-case) bech32 form of an account address, so
// that stored addresses compare equal whatever case the message used.
func (k Keeper) canonicalAddress(addr string) (sdk.AccAddress, string, error) {
	bz, err := k.addrCodec.StringToBytes(addr)
	if err != nil {
		return nil, "", err
	}
	s, err := k.addrCodec.BytesToString(bz)
	return bz, s, err
}

// nextID returns the next value of a sequence, skipping 0 so that ids start at 1 even on a store that never
// ran InitGenesis.
func nextID(ctx context.Context, seq collections.Sequence) (uint64, error) {
	id, err := seq.Next(ctx)
	if err == nil && id == 0 {
		id, err = seq.Next(ctx)
	}
	return id, err
}
