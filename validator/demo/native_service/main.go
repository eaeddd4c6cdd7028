// A test service that exposes its request latency as a Prometheus native histogram (client_golang's
// NativeHistogramBucketFactor), built at test time with Debian's golang-go and client_golang packages.
//
// GET /api/items answers after a lognormal delay (median -median-ms, sigma 0.5), with HTTP 500 for a share
// -error-rate of requests; /metrics serves the registry (protobuf when Prometheus asks for it, which native
// histograms need). -classic also exposes classic buckets, the demo target's geometric ones.
package main

import (
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	factor := flag.Float64("factor", 1.1, "native histogram bucket factor")
	classic := flag.Bool("classic", false, "also expose classic buckets")
	medianMs := flag.Float64("median-ms", 20, "median latency in milliseconds")
	errorRate := flag.Float64("error-rate", 0, "share of requests answered 500")
	flag.Parse()

	opts := prometheus.HistogramOpts{
		Name:                        "native_request_duration_seconds",
		Help:                        "Request latency.",
		NativeHistogramBucketFactor: *factor,
	}
	if *classic {
		opts.Buckets = prometheus.ExponentialBuckets(0.001, 1.05, 213)
	}
	latency := prometheus.NewHistogramVec(opts, []string{"path"})
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "native_requests_total", Help: "Requests by status.",
	}, []string{"path", "code"})
	registry := prometheus.NewRegistry()
	registry.MustRegister(latency, requests)
	requests.WithLabelValues("/api/items", "200")
	requests.WithLabelValues("/api/items", "500")

	var random = rand.New(rand.NewSource(time.Now().UnixNano()))
	var lock = make(chan struct{}, 1)
	draw := func() (float64, bool) {
		lock <- struct{}{}
		defer func() { <-lock }()
		return *medianMs / 1000 * math.Exp(0.5*random.NormFloat64()), random.Float64() < *errorRate
	}
	http.HandleFunc("/api/items", func(w http.ResponseWriter, r *http.Request) {
		started := time.Now()
		delay, fail := draw()
		time.Sleep(time.Duration(delay * float64(time.Second)))
		code := http.StatusOK
		if fail {
			code = http.StatusInternalServerError
		}
		w.WriteHeader(code)
		fmt.Fprintln(w, `{"items": []}`)
		latency.WithLabelValues("/api/items").Observe(time.Since(started).Seconds())
		requests.WithLabelValues("/api/items", strconv.Itoa(code)).Inc()
	})
	http.Handle("/metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	log.Printf("listening on %s", *listen)
	log.Fatal(http.ListenAndServe(*listen, nil))
}
