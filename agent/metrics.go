package agent

import (
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/consensus-nro/nro/agent/probe"
	"github.com/consensus-nro/nro/agent/report"
	"github.com/consensus-nro/nro/agent/telemetry"
)

const namespace = "nro_agent"

var (
	gpuLabels  = []string{"device", "uuid", "model", "source"}
	linkLabels = []string{"peer", "address"}

	descGPUUp = prometheus.NewDesc(namespace+"_gpu_up",
		"1 when NVML read the device in the last epoch, 0 when it failed (see the agent's log); absent for fallback reports.", gpuLabels, nil)
	descGPUUtil = prometheus.NewDesc(namespace+"_gpu_utilization_percent",
		"Percent of the last sample period during which a kernel ran on the GPU.", gpuLabels, nil)
	descGPUMemUtil = prometheus.NewDesc(namespace+"_gpu_memory_utilization_percent",
		"Percent of the last sample period during which device memory was read or written.", gpuLabels, nil)
	descGPUMemUsed = prometheus.NewDesc(namespace+"_gpu_memory_used_bytes",
		"Device memory in use.", gpuLabels, nil)
	descGPUMemTotal = prometheus.NewDesc(namespace+"_gpu_memory_total_bytes",
		"Device memory size (for source=fallback: the registered size).", gpuLabels, nil)
	descGPUPower = prometheus.NewDesc(namespace+"_gpu_power_watts",
		"Power draw.", gpuLabels, nil)
	descGPUTemp = prometheus.NewDesc(namespace+"_gpu_temperature_celsius",
		"GPU die temperature.", gpuLabels, nil)
	descGPUECC = prometheus.NewDesc(namespace+"_gpu_ecc_errors_volatile",
		"ECC errors since the driver loaded, by type (corrected, uncorrected).", append(gpuLabels, "type"), nil)
	descGPUClock = prometheus.NewDesc(namespace+"_gpu_clock_hertz",
		"Current clock, by domain (sm, memory).", append(gpuLabels, "clock"), nil)
	descGPUClockEvent = prometheus.NewDesc(namespace+"_gpu_clock_event_active",
		"1 while NVML reports this reason for holding clocks down (throttling), else 0.", append(gpuLabels, "reason"), nil)
	descGPUDevices = prometheus.NewDesc(namespace+"_gpu_devices",
		"Devices in the last GPU report, by its source (nvml, fallback).", []string{"source"}, nil)
	descGPUTimestamp = prometheus.NewDesc(namespace+"_gpu_report_timestamp_seconds",
		"When the last GPU report was collected (Unix time).", []string{"source"}, nil)

	descLinkUp = prometheus.NewDesc(namespace+"_probe_up",
		"1 when the last probe of the peer succeeded, else 0.", linkLabels, nil)
	descLinkRTT = prometheus.NewDesc(namespace+"_probe_rtt_seconds",
		"Median round-trip time of the last probe's echoes.", linkLabels, nil)
	descLinkThroughput = prometheus.NewDesc(namespace+"_probe_throughput_bits_per_second",
		"Throughput from the peer in the last probe's bounded transfer.", linkLabels, nil)

	descServerActive = prometheus.NewDesc(namespace+"_probe_server_connections",
		"Probe sessions open on this agent's server.", nil, nil)
	descServerSessions = prometheus.NewDesc(namespace+"_probe_server_sessions_total",
		"Probe sessions by outcome: accepted (handshake completed), rejected_busy, rejected_rate_limited, rejected_peer_limit, protocol_error, timeout.",
		[]string{"result"}, nil)
	descServerEchoes = prometheus.NewDesc(namespace+"_probe_server_echoes_total",
		"Echoes answered.", nil, nil)
	descServerBytes = prometheus.NewDesc(namespace+"_probe_server_sent_bytes_total",
		"Transfer payload bytes sent to peers.", nil, nil)
)

// metrics is the agent's Prometheus registry: counters it updates, and gauges read from the last epoch's report
// when scraped (so a device or peer that disappears stops being exported).
type metrics struct {
	registry *prometheus.Registry

	epochs          prometheus.Counter
	epochDuration   prometheus.Histogram
	telemetryErrors *prometheus.CounterVec
	probeErrors     *prometheus.CounterVec

	server *probe.Server

	mu   sync.Mutex
	last *report.Epoch
}

func newMetrics(server *probe.Server) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		server:   server,
		epochs: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "epochs_total", Help: "Epochs completed (GPU sample and peer probes).",
		}),
		epochDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "epoch_duration_seconds", Help: "Time an epoch's sampling and probing took.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60},
		}),
		telemetryErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "telemetry_errors_total",
			Help: "GPU telemetry failures: kind=nvml (the whole read failed; the epoch reported the fallback), kind=device (one device could not be read).",
		}, []string{"kind"}),
		probeErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "probe_errors_total",
			Help: "Failed peer probes by kind (timeout, refused, rate_limited, busy, frame_too_large, protocol, other, epoch_deadline).",
		}, []string{"peer", "kind"}),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.epochs, m.epochDuration, m.telemetryErrors, m.probeErrors,
		(*snapshotCollector)(m),
	)
	// Series that exist before the first failure, so that rate() works from the start.
	m.telemetryErrors.WithLabelValues("nvml")
	m.telemetryErrors.WithLabelValues("device")
	return m
}

func (m *metrics) observe(e report.Epoch) {
	m.mu.Lock()
	m.last = &e
	m.mu.Unlock()
}

// snapshotCollector exports the last epoch's report and the probe server's counters.
type snapshotCollector metrics

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descGPUUp, descGPUUtil, descGPUMemUtil, descGPUMemUsed, descGPUMemTotal,
		descGPUPower, descGPUTemp, descGPUECC, descGPUClock, descGPUClockEvent, descGPUDevices, descGPUTimestamp,
		descLinkUp, descLinkRTT, descLinkThroughput,
		descServerActive, descServerSessions, descServerEchoes, descServerBytes} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	if c.server != nil {
		st := c.server.Stats()
		ch <- prometheus.MustNewConstMetric(descServerActive, prometheus.GaugeValue, float64(st.ActiveConnections))
		for _, s := range []struct {
			result string
			n      uint64
		}{
			{"accepted", st.Sessions}, {"rejected_busy", st.RejectedBusy}, {"rejected_rate_limited", st.RejectedRateLimited}, {"rejected_peer_limit", st.RejectedPeerLimit},
			{"protocol_error", st.ProtocolErrors}, {"timeout", st.Timeouts},
		} {
			ch <- prometheus.MustNewConstMetric(descServerSessions, prometheus.CounterValue, float64(s.n), s.result)
		}
		ch <- prometheus.MustNewConstMetric(descServerEchoes, prometheus.CounterValue, float64(st.Echoes))
		ch <- prometheus.MustNewConstMetric(descServerBytes, prometheus.CounterValue, float64(st.BytesSent))
	}

	c.mu.Lock()
	last := c.last
	c.mu.Unlock()
	if last == nil {
		return
	}
	gpus := last.GPUs
	src := string(gpus.Source)
	ch <- prometheus.MustNewConstMetric(descGPUDevices, prometheus.GaugeValue, float64(len(gpus.Devices)), src)
	ch <- prometheus.MustNewConstMetric(descGPUTimestamp, prometheus.GaugeValue, float64(gpus.CollectedAt.UnixMilli())/1000, src)
	for _, d := range gpus.Devices {
		labels := []string{strconv.FormatUint(uint64(d.Index), 10), d.UUID, d.Model, src}
		gauge := func(desc *prometheus.Desc, v float64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, append(labels[:4:4], extra...)...)
		}
		if d.Error != "" {
			gauge(descGPUUp, 0)
			continue
		}
		if gpus.Source == report.SourceNVML {
			gauge(descGPUUp, 1) // a fallback device was not read, so it is neither up nor down
		}
		if d.UtilizationGPUPct != nil {
			gauge(descGPUUtil, float64(*d.UtilizationGPUPct))
		}
		if d.UtilizationMemoryPct != nil {
			gauge(descGPUMemUtil, float64(*d.UtilizationMemoryPct))
		}
		if d.MemoryUsedMiB != nil {
			gauge(descGPUMemUsed, float64(*d.MemoryUsedMiB)*(1<<20))
		}
		if d.MemoryTotalMiB != nil {
			gauge(descGPUMemTotal, float64(*d.MemoryTotalMiB)*(1<<20))
		}
		if d.PowerMilliwatts != nil {
			gauge(descGPUPower, float64(*d.PowerMilliwatts)/1000)
		}
		if d.TemperatureC != nil {
			gauge(descGPUTemp, float64(*d.TemperatureC))
		}
		if d.ECCCorrectedVolatile != nil {
			gauge(descGPUECC, float64(*d.ECCCorrectedVolatile), "corrected")
		}
		if d.ECCUncorrectedVolatile != nil {
			gauge(descGPUECC, float64(*d.ECCUncorrectedVolatile), "uncorrected")
		}
		if d.SMClockMHz != nil {
			gauge(descGPUClock, float64(*d.SMClockMHz)*1e6, "sm")
		}
		if d.MemoryClockMHz != nil {
			gauge(descGPUClock, float64(*d.MemoryClockMHz)*1e6, "memory")
		}
		if d.ClockEventReasons != nil {
			for _, r := range telemetry.ClockEventReasons {
				v := 0.0
				if *d.ClockEventReasons&r.Bit != 0 {
					v = 1
				}
				gauge(descGPUClockEvent, v, r.Name)
			}
		}
	}

	for _, l := range last.Links.Links {
		labels := []string{l.Peer, l.Address}
		if l.Error != "" {
			ch <- prometheus.MustNewConstMetric(descLinkUp, prometheus.GaugeValue, 0, labels...)
			continue
		}
		ch <- prometheus.MustNewConstMetric(descLinkUp, prometheus.GaugeValue, 1, labels...)
		ch <- prometheus.MustNewConstMetric(descLinkRTT, prometheus.GaugeValue, float64(l.RTTMicros)/1e6, labels...)
		if l.ThroughputKbps > 0 {
			ch <- prometheus.MustNewConstMetric(descLinkThroughput, prometheus.GaugeValue, float64(l.ThroughputKbps)*1000, labels...)
		}
	}
}
