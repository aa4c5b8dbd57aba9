package policy

import (
	"fmt"

	G "gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// graph is the network as a gorgonia expression graph over a fixed batch of decisions × candidates, with
// the REINFORCE loss: −mean over decisions of advantage × log π(chosen), minus an entropy bonus.
type graph struct {
	g       *G.ExprGraph
	batch   int // decisions per batch
	k       int // candidate slots per decision
	x       *G.Node
	mask    *G.Node // 0 for a real candidate, −1e9 for an empty slot
	pick    *G.Node // one-hot of the chosen candidate (all 0 for an empty decision slot)
	adv     *G.Node // advantage per decision (0 for an empty slot)
	scores  *G.Node // (batch, k) before masking
	loss    *G.Node
	weights []*G.Node // W1, B1, W2, B2, … as the network's layers
	vm      G.VM
}

// entropyBonus weighs the mean entropy of the decisions' distributions in the loss, so that training keeps
// exploring instead of settling on its first preference.
const entropyBonus = 0.01

func newGraph(n *Network, batch, k int) (*graph, error) {
	g := G.NewGraph()
	f := len(n.Features)
	gr := &graph{g: g, batch: batch, k: k}
	gr.x = G.NewMatrix(g, tensor.Float64, G.WithShape(batch*k, f), G.WithName("x"))
	gr.mask = G.NewMatrix(g, tensor.Float64, G.WithShape(batch, k), G.WithName("mask"))
	gr.pick = G.NewMatrix(g, tensor.Float64, G.WithShape(batch, k), G.WithName("pick"))
	gr.adv = G.NewVector(g, tensor.Float64, G.WithShape(batch), G.WithName("adv"))

	a := gr.x
	for i, l := range n.Layers {
		w := G.NewMatrix(g, tensor.Float64, G.WithShape(l.In, l.Out), G.WithName(fmt.Sprintf("w%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(l.In, l.Out), tensor.WithBacking(append([]float64(nil), l.W...)))))
		b := G.NewMatrix(g, tensor.Float64, G.WithShape(1, l.Out), G.WithName(fmt.Sprintf("b%d", i)),
			G.WithValue(tensor.New(tensor.WithShape(1, l.Out), tensor.WithBacking(append([]float64(nil), l.B...)))))
		gr.weights = append(gr.weights, w, b)
		z, err := G.Mul(a, w)
		if err != nil {
			return nil, err
		}
		if z, err = G.BroadcastAdd(z, b, nil, []byte{0}); err != nil {
			return nil, err
		}
		if i < len(n.Layers)-1 {
			if z, err = G.Tanh(z); err != nil {
				return nil, err
			}
		}
		a = z
	}
	scores, err := G.Reshape(a, tensor.Shape{batch, k})
	if err != nil {
		return nil, err
	}
	gr.scores = scores
	masked, err := G.Add(scores, gr.mask)
	if err != nil {
		return nil, err
	}
	logp, err := G.LogSoftMax(masked, 1)
	if err != nil {
		return nil, err
	}
	chosen := G.Must(G.Sum(G.Must(G.HadamardProd(logp, gr.pick)), 1)) // (batch)
	pg := G.Must(G.Sum(G.Must(G.HadamardProd(chosen, gr.adv))))
	// Entropy of each real decision: −Σ p log p over its real candidates (empty slots have p = 0).
	p := G.Must(G.Exp(logp))
	real := G.Must(G.Sum(gr.pick, 1)) // 1 for a real decision, 0 for an empty slot
	ent := G.Must(G.Sum(G.Must(G.HadamardProd(G.Must(G.Neg(G.Must(G.Sum(G.Must(G.HadamardProd(p, logp)), 1)))), real))))
	total := G.Must(G.Add(pg, G.Must(G.Mul(ent, G.NewConstant(entropyBonus)))))
	gr.loss = G.Must(G.Div(G.Must(G.Neg(total)), G.NewConstant(float64(batch))))
	if _, err := G.Grad(gr.loss, gr.weights...); err != nil {
		return nil, err
	}
	gr.vm = G.NewTapeMachine(g, G.BindDualValues(gr.weights...))
	return gr, nil
}

// set binds one batch's inputs.
func (gr *graph) set(x, mask, pick, adv []float64) error {
	f := gr.x.Shape()[1]
	for _, b := range []struct {
		n    *G.Node
		data []float64
		sh   []int
	}{
		{gr.x, x, []int{gr.batch * gr.k, f}}, {gr.mask, mask, []int{gr.batch, gr.k}},
		{gr.pick, pick, []int{gr.batch, gr.k}}, {gr.adv, adv, []int{gr.batch}},
	} {
		if err := G.Let(b.n, tensor.New(tensor.WithShape(b.sh...), tensor.WithBacking(b.data))); err != nil {
			return err
		}
	}
	return nil
}

// copyTo writes the graph's current weights back into the network.
func (gr *graph) copyTo(n *Network) {
	for i := range n.Layers {
		copy(n.Layers[i].W, gr.weights[2*i].Value().Data().([]float64))
		copy(n.Layers[i].B, gr.weights[2*i+1].Value().Data().([]float64))
	}
}
