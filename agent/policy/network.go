// Package policy is Consensus-NRO's learned placement policy: a small neural network that scores candidate
// placements of a lease from per-candidate features (price, the ring's RTT and throughput, nodes and regions
// spanned, free capacity, fragmentation left, reputation, the chain's own cost) and picks the best. It is
// trained in the market simulator (agent/sim) with REINFORCE and a time-based baseline, built and
// differentiated with gorgonia; the agent's proposer uses it to choose which placement to propose.
//
// Scoring at decision time runs the same network as a plain Go forward pass (no graph to build per
// decision); TestForwardMatchesGorgonia checks that both compute the same scores.
package policy

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
)

// Layer is one fully connected layer: out = act(in · W + B), W stored row-major (In rows, Out columns).
type Layer struct {
	In  int       `json:"in"`
	Out int       `json:"out"`
	W   []float64 `json:"w"`
	B   []float64 `json:"b"`
}

// Network is the scorer: tanh hidden layers and a linear output of one score per candidate.
type Network struct {
	// Version of the file format.
	Version int `json:"version"`
	// Features are the input names, in order (see FeatureNames); a network is only used with the same list.
	Features []string `json:"features"`
	Layers   []Layer  `json:"layers"`
	// Trained says how the network was made (iterations, seed, data slice), for the record.
	Trained TrainingRecord `json:"trained"`
}

// TrainingRecord is what a checkpoint says about its training.
type TrainingRecord struct {
	Iterations int     `json:"iterations"`
	Episodes   int     `json:"episodes"`
	Seed       int64   `json:"seed"`
	TrainJobs  int     `json:"train_jobs"`
	TrainStart [2]int  `json:"train_start_range"`
	Load       float64 `json:"load"`
	// MinLargeJobs and Mode are TrainConfig's (omitted when 0: every slice, Direct).
	MinLargeJobs int  `json:"min_large_jobs,omitempty"`
	Mode         Mode `json:"mode,omitempty"`
	// MeanJCTHours is the greedy policy's mean JCT on the validation slice at the end of training.
	MeanJCTHours float64 `json:"mean_jct_hours"`
}

const fileVersion = 1

// NewNetwork makes a network with the given hidden sizes, initialised with Glorot-uniform weights from the
// seed and zero biases.
func NewNetwork(hidden []int, seed int64) *Network {
	r := rand.New(rand.NewSource(seed))
	n := &Network{Version: fileVersion, Features: slices.Clone(FeatureNames)}
	in := len(FeatureNames)
	for _, out := range append(slices.Clone(hidden), 1) {
		l := Layer{In: in, Out: out, W: make([]float64, in*out), B: make([]float64, out)}
		limit := math.Sqrt(6 / float64(in+out))
		for i := range l.W {
			l.W[i] = (2*r.Float64() - 1) * limit
		}
		n.Layers = append(n.Layers, l)
		in = out
	}
	return n
}

// Score returns one score per candidate (rows of x, each len(Features) long).
func (n *Network) Score(x [][]float64) []float64 {
	out := make([]float64, len(x))
	var buf [2][]float64
	for i, row := range x {
		a := row
		for li, l := range n.Layers {
			next := buf[li%2]
			if cap(next) < l.Out {
				next = make([]float64, l.Out)
			}
			next = next[:l.Out]
			copy(next, l.B)
			for j, v := range a {
				if v == 0 {
					continue
				}
				w := l.W[j*l.Out : (j+1)*l.Out]
				for k := range next {
					next[k] += v * w[k]
				}
			}
			if li < len(n.Layers)-1 {
				for k := range next {
					next[k] = math.Tanh(next[k])
				}
			}
			buf[li%2] = next
			a = next
		}
		out[i] = a[0]
	}
	return out
}

// Validate checks a network's shape against the feature list this build computes.
func (n *Network) Validate() error {
	if n.Version != fileVersion {
		return fmt.Errorf("policy file version %d; this build reads version %d", n.Version, fileVersion)
	}
	if !slices.Equal(n.Features, FeatureNames) {
		return fmt.Errorf("policy was trained on features %v; this build computes %v: retrain it (nro-agent train)", n.Features, FeatureNames)
	}
	if len(n.Layers) == 0 {
		return errors.New("policy has no layers")
	}
	in := len(FeatureNames)
	for i, l := range n.Layers {
		if l.In != in || len(l.W) != l.In*l.Out || len(l.B) != l.Out || l.Out < 1 {
			return fmt.Errorf("policy layer %d: %d×%d with %d weights and %d biases does not fit its input of %d", i, l.In, l.Out, len(l.W), len(l.B), in)
		}
		for _, v := range append(slices.Clone(l.W), l.B...) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("policy layer %d holds a non-finite weight", i)
			}
		}
		in = l.Out
	}
	if in != 1 {
		return fmt.Errorf("policy's last layer has %d outputs; it must have 1 (the score)", in)
	}
	return nil
}

// Save writes the network as JSON, atomically (a temporary file renamed over the target).
func (n *Network) Save(path string) error {
	b, err := json.MarshalIndent(n, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".policy-*.json")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Load reads and validates a network written by Save.
func Load(path string) (*Network, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// Parse decodes and validates a network.
func Parse(b []byte) (*Network, error) {
	var n Network
	if err := json.Unmarshal(b, &n); err != nil {
		return nil, fmt.Errorf("policy file: %w", err)
	}
	if err := n.Validate(); err != nil {
		return nil, err
	}
	return &n, nil
}
