package keeper_test

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"cosmossdk.io/collections"

	keepertest "github.com/consensus-nro/nro/testutil/keeper"
	"github.com/consensus-nro/nro/x/allocation/keeper"
	"github.com/consensus-nro/nro/x/allocation/types"
)

// TestViewCapacityMatchesStore: the block view keeps reservations in memory until flush, and its capacity
// walks merge them with the store's index. Over random reservations, undone reservations and walks (of
// every length, from scopes read before and after the reservations), every walk visits exactly the entries
// the index holds for the view's current nodes, in index order; after flush the store holds exactly those.
func TestViewCapacityMatchesStore(t *testing.T) {
	for seed := int64(1); seed <= 30; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			r := rand.New(rand.NewSource(seed))
			f := keepertest.NewAllocationFixture(t)
			regions := []string{"aws:us-east-1", "aws:us-west-2", "gcp:us-central1-a"}
			models := []string{"H100", "A100"}
			var ids []string
			for i := range 20 + r.Intn(40) {
				spec := keepertest.NodeSpec{
					ID: fmt.Sprintf("n%02d", i), Region: regions[r.Intn(len(regions))],
					PricePerGpuHour: int64(1+r.Intn(4)) * 1_000_000,
				}
				for g := range 1 + r.Intn(2) {
					c := uint32(1 + r.Intn(8))
					spec.Gpus = append(spec.Gpus, types.GpuGroup{Model: models[r.Intn(2)], Count: c, MemoryMib: 40960 * uint64(1+g), Reserved: uint32(r.Intn(int(c)))})
				}
				f.AddNode(spec)
				ids = append(ids, spec.ID)
			}
			scopes := []string{"*", "m/H100", "m/A100"}
			for _, reg := range regions {
				scopes = append(scopes, types.GroupScopes(reg, "H100")[2], types.GroupScopes(reg, "H100")[3], types.GroupScopes(reg, "A100")[3])
			}
			v := f.Keeper.NewTestView(f.Ctx)
			// want lists the groups of a scope for the view's current nodes, in index order, each with what
			// the index holds of its node.
			want := func(scope string) []types.CapacityGroup {
				var out []types.CapacityGroup
				for _, id := range ids {
					n, err := v.Node(id)
					require.NoError(t, err)
					for i, g := range n.Gpus {
						if g.Free() == 0 {
							continue
						}
						for _, s := range types.GroupScopes(n.Region, g.Model) {
							if s == scope {
								out = append(out, types.CapacityGroup{NodeID: id, Group: uint32(i), Price: n.PricePerGpuHour.Amount.Uint64(),
									Free: g.Free(), Entry: types.CapacityEntry{Region: n.Region, GpuModel: g.Model, GpuMemoryMib: g.MemoryMib,
										BandwidthMbps: n.BandwidthMbps, ReputationBps: n.ReputationBps}})
							}
						}
					}
				}
				slices.SortFunc(out, func(a, b types.CapacityGroup) int {
					return compareKeys(keyOf(scope, a), keyOf(scope, b))
				})
				return out
			}
			walk := func() {
				scope := scopes[r.Intn(len(scopes))]
				limit := 1 + r.Intn(12)
				maxPrice := uint64(1+r.Intn(5)) * 1_000_000
				var got []types.CapacityGroup
				read, err := v.WalkCapacity(scope, maxPrice, limit, func(g *types.CapacityGroup) (bool, error) {
					got = append(got, *g)
					return false, nil
				})
				require.NoError(t, err)
				all := want(scope)
				var exp []types.CapacityGroup
				expRead := 0
				for _, g := range all {
					if expRead == limit {
						break
					}
					expRead++
					if g.Price > maxPrice {
						break
					}
					exp = append(exp, g)
				}
				require.Equal(t, expRead, read, "entries read of %s", scope)
				require.Equal(t, exp, got, "walk of %s", scope)
			}
			for range 200 {
				switch r.Intn(3) {
				case 0:
					walk()
				default:
					// A placement of one to three entries, sometimes more than a group holds.
					var nodes []types.ScoredNode
					for range 1 + r.Intn(3) {
						n, err := v.Node(ids[r.Intn(len(ids))])
						require.NoError(t, err)
						g := r.Intn(len(n.Gpus))
						nodes = append(nodes, types.ScoredNode{NodeId: n.Id, GpuGroup: uint32(g), Gpus: uint32(1 + r.Intn(3))})
					}
					undo, err := v.Reserve(nodes)
					if err != nil {
						continue // refused: nothing changed
					}
					if r.Intn(3) == 0 {
						walk()
						undo()
					}
				}
			}
			// The store gets the view's nodes and their index entries.
			require.NoError(t, v.Flush())
			for _, scope := range scopes {
				stored, err := f.Keeper.CapacityEntries(f.Ctx, scope)
				require.NoError(t, err)
				require.Equal(t, want(scope), stored, "index of %s after flush", scope)
			}
			for _, id := range ids {
				n, err := v.Node(id)
				require.NoError(t, err)
				require.Equal(t, *n, f.Node(id))
			}
			f.RequireInvariant()
		})
	}
}

func keyOf(scope string, g types.CapacityGroup) keeper.CapacityKey {
	return collections.Join4(scope, g.Price, g.Free, fmt.Sprintf("%s/%d", g.NodeID, g.Group))
}

func compareKeys(a, b keeper.CapacityKey) int {
	return cmp4(a.K1(), b.K1(), a.K2(), b.K2(), a.K3(), b.K3(), a.K4(), b.K4())
}

func cmp4(a1, b1 string, a2, b2 uint64, a3, b3 uint32, a4, b4 string) int {
	switch {
	case a1 != b1:
		return map[bool]int{true: -1, false: 1}[a1 < b1]
	case a2 != b2:
		return map[bool]int{true: -1, false: 1}[a2 < b2]
	case a3 != b3:
		return map[bool]int{true: -1, false: 1}[a3 < b3]
	case a4 != b4:
		return map[bool]int{true: -1, false: 1}[a4 < b4]
	}
	return 0
}
