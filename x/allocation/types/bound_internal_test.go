package types

import (
	"math/rand"
	"testing"

	sdkmath "cosmossdk.io/math"
	"github.com/stretchr/testify/require"

	leasetypes "github.com/consensus-nro/nro/x/lease/types"
)

// referenceCannotBeat is planBound.cannotBeat written with sdkmath.Int, as it was before cannotBeat reused
// big.Int scratch: the two must agree on every input.
func referenceCannotBeat(pool []poolEntry, plan []take, w ScoringWeights, spec leasetypes.LeaseSpec, bph uint64, total sdkmath.Int) bool {
	if bph == 0 {
		return false
	}
	maxRep := NeutralReputationBps
	for _, e := range pool {
		maxRep = max(maxRep, e.g.Entry.ReputationBps)
	}
	u := sdkmath.NewIntFromUint64
	dur, per := u(spec.DurationBlocks), u(bph)
	rep := u(w.ReputationPerBps).Mul(u(uint64(maxRep-NeutralReputationBps) * uint64(spec.TotalGpus))).Mul(dur).Quo(per)
	sum := sdkmath.ZeroInt()
	for _, t := range plan {
		sum = sum.Add(u(uint64(t.gpus)).Mul(u(pool[t.entry].g.Price)))
	}
	return sum.Mul(dur).Quo(per).Sub(rep).GTE(total)
}

func TestPlanBoundMatchesSdkmath(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := range 5_000 {
		pool := make([]poolEntry, 1+r.Intn(12))
		for j := range pool {
			price := uint64(r.Int63n(int64(MaxPriceAmount) + 1))
			if r.Intn(4) == 0 {
				price = uint64(r.Intn(1_000))
			}
			pool[j] = poolEntry{g: CapacityGroup{Price: price, Entry: CapacityEntry{ReputationBps: uint32(r.Intn(10_001))}}, cap: uint32(1 + r.Intn(64))}
		}
		plan := make([]take, 1+r.Intn(len(pool)))
		for j := range plan {
			plan[j] = take{entry: r.Intn(len(pool)), gpus: uint32(1 + r.Intn(1<<16))}
		}
		spec := leasetypes.LeaseSpec{TotalGpus: uint32(1 + r.Intn(1<<16)), DurationBlocks: uint64(r.Int63n(1 << 40))}
		w := ScoringWeights{ReputationPerBps: uint64(r.Intn(1 << 20))}
		bph := uint64(r.Intn(4_000))
		b := newPlanBound(pool, w, spec, bph)
		// Totals around the bound, on both sides of it, and far from it (negative ones too).
		ref := sdkmath.NewInt(r.Int63() - r.Int63())
		if bph > 0 {
			// The bound itself, by sdkmath: cannotBeat must say true at it and below, false above.
			u := sdkmath.NewIntFromUint64
			sum := sdkmath.ZeroInt()
			for _, tk := range plan {
				sum = sum.Add(u(uint64(tk.gpus)).Mul(u(pool[tk.entry].g.Price)))
			}
			exact := sum.Mul(u(spec.DurationBlocks)).Quo(u(bph)).Sub(sdkmath.NewIntFromBigInt(b.repCredit))
			for _, d := range []int64{-1, 0, 1} {
				total := exact.AddRaw(d)
				require.Equal(t, d <= 0, b.cannotBeat(pool, plan, total), "case %d, total %s", i, total)
				require.Equal(t, referenceCannotBeat(pool, plan, w, spec, bph, total), b.cannotBeat(pool, plan, total), "case %d, total %s", i, total)
			}
		}
		require.Equal(t, referenceCannotBeat(pool, plan, w, spec, bph, ref), b.cannotBeat(pool, plan, ref), "case %d, total %s", i, ref)
	}
}
