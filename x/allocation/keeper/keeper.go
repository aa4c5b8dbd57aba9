// Package keeper holds x/allocation's state and logic: the registry of staked GPU nodes, their stake
// escrow and the unbonding queue, and the allocation engine (proposals, scoring, the fallback allocator and
// capacity reservations).
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

	"github.com/cosmos/cosmos-sdk/codec"
	sdk "github.com/cosmos/cosmos-sdk/types"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// NodeIndexes are the secondary indexes of the node registry, so that queries and later the allocation
// engine narrow by operator, region or status without scanning every node.
type NodeIndexes struct {
	Operator *indexes.Multi[sdk.AccAddress, string, types.Node]
	Region   *indexes.Multi[string, string, types.Node]
	Status   *indexes.Multi[int32, string, types.Node]
	Agent    *indexes.Multi[sdk.AccAddress, string, types.Node]
	// Capacity lists the GPU groups with free GPUs of ACTIVE nodes by scope (model and/or region), price and
	// free count; the fallback allocator walks it instead of the registry.
	Capacity *capacityIndex
}

// IndexesList implements collections.Indexes. The indexes are behind one that reads the node's old value
// once for all of them: collections would otherwise read and decode it once per index on every write.
func (i NodeIndexes) IndexesList() []collections.Index[string, types.Node] {
	return []collections.Index[string, types.Node]{sharedOldValue{
		skipUnchanged[string]{i.Operator, func(n types.Node) string { return n.Operator }},
		skipUnchanged[string]{i.Region, func(n types.Node) string { return n.Region }},
		skipUnchanged[types.NodeStatus]{i.Status, func(n types.Node) types.NodeStatus { return n.Status }},
		skipUnchanged[string]{i.Agent, func(n types.Node) string { return n.Agent }},
		i.Capacity,
	}}
}

// skipUnchanged leaves an index alone when a write of a node keeps the field it indexes: the entry is
// already there. Reservations rewrite nodes often and change only their free GPUs, and the address indexes
// would otherwise decode two bech32 addresses per write.
type skipUnchanged[F comparable] struct {
	collections.Index[string, types.Node]
	field func(types.Node) F
}

func (s skipUnchanged[F]) Reference(ctx context.Context, pk string, v types.Node, lazyOld func() (types.Node, error)) error {
	if old, err := lazyOld(); err == nil && s.field(old) == s.field(v) {
		return nil
	}
	return s.Index.Reference(ctx, pk, v, lazyOld)
}

// sharedOldValue updates several indexes of the node registry with one read of the old value.
type sharedOldValue []collections.Index[string, types.Node]

func once(get func() (types.Node, error)) func() (types.Node, error) {
	var (
		v    types.Node
		err  error
		done bool
	)
	return func() (types.Node, error) {
		if !done {
			v, err = get()
			done = true
		}
		return v, err
	}
}

func (s sharedOldValue) Reference(ctx context.Context, pk string, v types.Node, lazyOld func() (types.Node, error)) error {
	old := once(lazyOld)
	for _, idx := range s {
		if err := idx.Reference(ctx, pk, v, old); err != nil {
			return err
		}
	}
	return nil
}

func (s sharedOldValue) Unreference(ctx context.Context, pk string, lazyOld func() (types.Node, error)) error {
	old := once(lazyOld)
	for _, idx := range s {
		if err := idx.Unreference(ctx, pk, old); err != nil {
			return err
		}
	}
	return nil
}

func newNodeIndexes(sb *collections.SchemaBuilder, cdc codec.BinaryCodec, addrCodec address.Codec) NodeIndexes {
	return NodeIndexes{
		Operator: indexes.NewMulti(sb, types.NodesByOperatorKey, "nodes_by_operator",
			sdk.AccAddressKey, collections.StringKey,
			func(_ string, n types.Node) (sdk.AccAddress, error) {
				return addrCodec.StringToBytes(n.Operator)
			}),
		Region: indexes.NewMulti(sb, types.NodesByRegionKey, "nodes_by_region",
			collections.StringKey, collections.StringKey,
			func(_ string, n types.Node) (string, error) { return n.Region, nil }),
		Status: indexes.NewMulti(sb, types.NodesByStatusKey, "nodes_by_status",
			collections.Int32Key, collections.StringKey,
			func(_ string, n types.Node) (int32, error) { return int32(n.Status), nil }),
		Agent: indexes.NewMulti(sb, types.NodesByAgentKey, "nodes_by_agent",
			sdk.AccAddressKey, collections.StringKey,
			func(_ string, n types.Node) (sdk.AccAddress, error) {
				return addrCodec.StringToBytes(n.Agent)
			}),
		Capacity: newCapacityIndex(sb, cdc),
	}
}

// engineDeps holds the keepers the allocation engine calls and that are built after this keeper (x/lease
// needs x/allocation and the other way round). It sits behind a pointer so that every copy of the Keeper
// sees them once the app has set them.
type engineDeps struct {
	leases types.LeaseKeeper
	audit  types.AuditKeeper
}

// Keeper is the x/allocation keeper.
type Keeper struct {
	cdc          codec.BinaryCodec
	storeService store.KVStoreService
	logger       log.Logger
	ak           types.AccountKeeper
	bk           types.BankKeeper
	addrCodec    address.Codec
	// authority is the account allowed to change params: the gov module account.
	authority string

	Schema collections.Schema
	Params collections.Item[types.Params]
	// Nodes maps node id to node.
	Nodes *collections.IndexedMap[string, types.Node, NodeIndexes]
	// UnbondingQueue holds (release height, node id) for every UNBONDING node; EndBlock walks it in order.
	UnbondingQueue collections.KeySet[collections.Pair[int64, string]]
	// RegionLinks maps (region_a, region_b), region_a <= region_b, to the link's RTT and bandwidth.
	RegionLinks collections.Map[collections.Pair[string, string], types.RegionLink]
	// Proposals maps proposal id to proposal; ProposalsByLease lists (lease id, proposal id).
	Proposals        collections.Map[uint64, types.Proposal]
	ProposalsByLease collections.KeySet[collections.Pair[uint64, uint64]]
	ProposalSeq      collections.Sequence
	// AllocationQueue holds (due height, lease id) for every PENDING lease; EndBlock tries the due ones oldest
	// first. PendingDue maps lease id to its due height.
	AllocationQueue collections.KeySet[collections.Pair[int64, uint64]]
	PendingDue      collections.Map[uint64, int64]
	// LeasesWithProposals holds the ids of leases with at least one kept proposal; derived from Proposals.
	LeasesWithProposals collections.KeySet[uint64]

	deps *engineDeps
}

// NewKeeper builds the keeper. It panics on a malformed authority, as the SDK's keepers do.
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
		panic(fmt.Errorf("x/allocation: invalid authority %q: %w", authority, err))
	}
	if ak.GetModuleAddress(types.ModuleName) == nil {
		panic("x/allocation: module account is not set in the account keeper's permissions")
	}
	sb := collections.NewSchemaBuilder(storeService)
	k := Keeper{
		cdc:          cdc,
		storeService: storeService,
		logger:       logger.With("module", "x/"+types.ModuleName),
		ak:           ak,
		bk:           bk,
		addrCodec:    addrCodec,
		authority:    authority,
		Params:       collections.NewItem(sb, types.ParamsKey, "params", codec.CollValue[types.Params](cdc)),
		Nodes: collections.NewIndexedMap(sb, types.NodesKey, "nodes", collections.StringKey,
			codec.CollValue[types.Node](cdc), newNodeIndexes(sb, cdc, addrCodec)),
		UnbondingQueue: collections.NewKeySet(sb, types.UnbondingQueueKey, "unbonding_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.StringKey)),
		RegionLinks: collections.NewMap(sb, types.RegionLinksKey, "region_links",
			collections.PairKeyCodec(collections.StringKey, collections.StringKey), codec.CollValue[types.RegionLink](cdc)),
		Proposals: collections.NewMap(sb, types.ProposalsKey, "proposals", collections.Uint64Key,
			codec.CollValue[types.Proposal](cdc)),
		ProposalsByLease: collections.NewKeySet(sb, types.ProposalsByLease, "proposals_by_lease",
			collections.PairKeyCodec(collections.Uint64Key, collections.Uint64Key)),
		ProposalSeq: collections.NewSequence(sb, types.ProposalSeqKey, "proposal_seq"),
		AllocationQueue: collections.NewKeySet(sb, types.AllocationQueueKey, "allocation_queue",
			collections.PairKeyCodec(collections.Int64Key, collections.Uint64Key)),
		PendingDue:          collections.NewMap(sb, types.PendingDueKey, "pending_due", collections.Uint64Key, collections.Int64Value),
		LeasesWithProposals: collections.NewKeySet(sb, types.LeasesWithProposalsKey, "leases_with_proposals", collections.Uint64Key),
		deps:                &engineDeps{},
	}
	schema, err := sb.Build()
	if err != nil {
		panic(err)
	}
	k.Schema = schema
	return k
}

// SetLeaseKeeper sets x/lease, which the engine reads pending leases from and activates them in. The app
// calls it once, before the chain runs.
func (k Keeper) SetLeaseKeeper(lk types.LeaseKeeper) { k.deps.leases = lk }

// SetAuditKeeper sets x/audit, which stores decision records.
func (k Keeper) SetAuditKeeper(a types.AuditKeeper) { k.deps.audit = a }

func (k Keeper) leases() types.LeaseKeeper {
	if k.deps.leases == nil {
		panic("x/allocation: lease keeper not set; the app must call SetLeaseKeeper")
	}
	return k.deps.leases
}

func (k Keeper) audit() types.AuditKeeper {
	if k.deps.audit == nil {
		panic("x/allocation: audit keeper not set; the app must call SetAuditKeeper")
	}
	return k.deps.audit
}

// Authority returns the params authority.
func (k Keeper) Authority() string { return k.authority }

// AddressCodec returns the account address codec.
func (k Keeper) AddressCodec() address.Codec { return k.addrCodec }

// Logger returns the module logger.
func (k Keeper) Logger() log.Logger { return k.logger }

// GetParams returns the current params.
func (k Keeper) GetParams(ctx context.Context) (types.Params, error) {
	return k.Params.Get(ctx)
}

// GetNode returns a node by id, or ErrNodeNotFound.
func (k Keeper) GetNode(ctx context.Context, id string) (types.Node, error) {
	n, err := k.Nodes.Get(ctx, id)
	if err != nil {
		if errors.Is(err, collections.ErrNotFound) {
			return types.Node{}, types.ErrNodeNotFound.Wrapf("no node with id %q", id)
		}
		return types.Node{}, err
	}
	return n, nil
}

// ModuleAddress is the module account holding all stakes.
func (k Keeper) ModuleAddress() sdk.AccAddress { return k.ak.GetModuleAddress(types.ModuleName) }
