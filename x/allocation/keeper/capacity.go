package keeper

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"cosmossdk.io/collections"

	"github.com/consensus-nro/nro/x/allocation/types"
)

// CapacityKey is an entry of the capacity index: (scope, price per GPU-hour, free GPUs, "node/group").
type CapacityKey = collections.Quad[string, uint64, uint32, string]

// Capacity index scopes. Every GPU group with free GPUs on an ACTIVE node is listed under four scopes, so
// that the fallback allocator can walk the cheapest groups (then the fullest, for best fit) of one model
// and/or one region without reading other nodes.
const scopeAny = "*"

func scopeModel(model string) string           { return "m/" + model }
func scopeRegion(region string) string         { return "r/" + region + "/*" }
func scopeRegionModel(region, m string) string { return "r/" + region + "/m/" + m }

// LeaseScopes returns the capacity index scopes that hold every group a lease could use.
func LeaseScopes(model string, regions []string) []string {
	if len(regions) == 0 {
		if model == "" {
			return []string{scopeAny}
		}
		return []string{scopeModel(model)}
	}
	out := make([]string, len(regions))
	for i, r := range regions {
		if model == "" {
			out[i] = scopeRegion(r)
		} else {
			out[i] = scopeRegionModel(r, model)
		}
	}
	return out
}

func groupRef(nodeID string, group int) string { return nodeID + "/" + strconv.Itoa(group) }

func parseGroupRef(ref string) (string, uint32, error) {
	i := strings.LastIndexByte(ref, '/')
	if i < 0 {
		return "", 0, fmt.Errorf("capacity index: malformed group reference %q", ref)
	}
	g, err := strconv.ParseUint(ref[i+1:], 10, 32)
	if err != nil {
		return "", 0, fmt.Errorf("capacity index: malformed group reference %q: %w", ref, err)
	}
	return ref[:i], uint32(g), nil
}

func capacityKeys(n types.Node) []CapacityKey {
	if n.Status != types.NODE_STATUS_ACTIVE {
		return nil
	}
	price := n.PricePerGpuHour.Amount.Uint64() // bounded by types.MaxPriceAmount
	var keys []CapacityKey
	for i, g := range n.Gpus {
		free := g.Free()
		if free == 0 {
			continue
		}
		ref := groupRef(n.Id, i)
		for _, s := range []string{scopeAny, scopeModel(g.Model), scopeRegion(n.Region), scopeRegionModel(n.Region, g.Model)} {
			keys = append(keys, collections.Join4(s, price, free, ref))
		}
	}
	return keys
}

// capacityIndex is a collections.Index over the node registry with several entries per node (four per GPU
// group with free GPUs), kept in step with every write of a node by the IndexedMap.
type capacityIndex struct {
	refs collections.KeySet[CapacityKey]
}

func newCapacityIndex(sb *collections.SchemaBuilder) *capacityIndex {
	return &capacityIndex{refs: collections.NewKeySet(sb, types.CapacityIndexKey, "capacity_index",
		collections.QuadKeyCodec(collections.StringKey, collections.Uint64Key, collections.Uint32Key, collections.StringKey))}
}

func (i *capacityIndex) Reference(ctx context.Context, pk string, v types.Node, lazyOld func() (types.Node, error)) error {
	if err := i.Unreference(ctx, pk, lazyOld); err != nil {
		return err
	}
	for _, k := range capacityKeys(v) {
		if err := i.refs.Set(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

func (i *capacityIndex) Unreference(ctx context.Context, _ string, lazyOld func() (types.Node, error)) error {
	old, err := lazyOld()
	if errors.Is(err, collections.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	for _, k := range capacityKeys(old) {
		if err := i.refs.Remove(ctx, k); err != nil {
			return err
		}
	}
	return nil
}

// walkCapacity visits the groups of one scope with price <= maxPrice in (price, free, ref) order until fn
// returns true or limit entries have been read. It returns how many entries it read.
func (i *capacityIndex) walkCapacity(ctx context.Context, scope string, maxPrice uint64, limit int,
	fn func(price uint64, free uint32, nodeID string, group uint32) (bool, error),
) (int, error) {
	it, err := i.refs.Iterate(ctx, collections.NewPrefixedQuadRange[string, uint64, uint32, string](scope))
	if err != nil {
		return 0, err
	}
	defer func() { _ = it.Close() }()
	read := 0
	for ; it.Valid() && read < limit; it.Next() {
		k, err := it.Key()
		if err != nil {
			return read, err
		}
		read++
		if k.K2() > maxPrice {
			break
		}
		nodeID, group, err := parseGroupRef(k.K4())
		if err != nil {
			return read, err
		}
		stop, err := fn(k.K2(), k.K3(), nodeID, group)
		if err != nil || stop {
			return read, err
		}
	}
	return read, nil
}
