package policy
import ("testing";"fmt";"github.com/consensus-nro/nro/agent/sim";"github.com/consensus-nro/nro/x/allocation/types")
type pick struct{ name string; f func(d *sim.Decision, c []types.Candidate, x [][]float64) int }
func (p pick) Name() string { return p.name }
func (p pick) Place(d *sim.Decision) (types.Candidate, bool) { c := sim.Candidates(d, MaxCandidates); if len(c)==0 {return types.Candidate{}, false}; return c[p.f(d,c,Features(d,c,true))], true }
func TestExp(t *testing.T){
 data,_:=sim.LoadData("../../data")
 for _, start := range []int{20000, 60000, 70000} {
 cfg:=sim.DefaultConfig(); cfg.Start=start
 m,_:=sim.NewMarket(cfg,data)
 ps:=[]sim.Placer{sim.Fallback{}, sim.BestFit{},
  pick{"min-penalty-then-nodes", func(d *sim.Decision, c []types.Candidate, x [][]float64) int { b:=0; for i:=range x { if x[i][16]<x[b][16] || (x[i][16]==x[b][16] && x[i][8] < x[b][8]) || (x[i][16]==x[b][16] && x[i][8]==x[b][8] && x[i][10]<x[b][10]) {b=i}}; return b}},
  pick{"min-penalty-then-stranded", func(d *sim.Decision, c []types.Candidate, x [][]float64) int { b:=0; for i:=range x { if x[i][16]<x[b][16] || (x[i][16]==x[b][16] && x[i][10] < x[b][10]) {b=i}}; return b}},
  pick{"fewest-regions-then-fallback", func(d *sim.Decision, c []types.Candidate, x [][]float64) int { b:=0; for i:=range x { if x[i][9]<x[b][9] {b=i}}; return b}},
 }
 b := m.Bound(); fmt.Printf("start %d bound %.2f\n", start, b.MeanJCT/3600)
 for _,p:=range ps { r,err:=m.Run(p); if err!=nil{t.Fatal(err)}; fmt.Printf("  %-30s jct %.2f q %.2f bw %.3f cost %.0f cross %d multi %d\n", p.Name(), r.MeanJCT/3600, r.MeanQueue/3600, r.BandwidthUtil, r.CostUSD, r.CrossRegion, r.MultiNode) }
 }
}
