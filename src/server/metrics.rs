//! Prometheus metrics kept in memory: requests by route and status, request
//! latency and render-job duration histograms. Queue depth and jobs by
//! state are read from the store when `/metrics` is scraped.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;
use crate::store::JobState;

const LATENCY_BUCKETS_SECONDS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];
const JOB_BUCKETS_SECONDS: [f64; 9] = [1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0];

#[derive(Debug, Default)]
struct Histogram {
    /// Cumulative counts per bucket bound (Prometheus `le`).
    buckets: Vec<u64>,
    count: u64,
    sum_seconds: f64,
}

impl Histogram {
    fn observe(&mut self, bounds: &[f64], seconds: f64) {
        if self.buckets.is_empty() {
            self.buckets = vec![0; bounds.len()];
        }
        for (bucket, bound) in self.buckets.iter_mut().zip(bounds) {
            if seconds <= *bound {
                *bucket += 1;
            }
        }
        self.count += 1;
        self.sum_seconds += seconds;
    }

    fn write(&self, out: &mut String, name: &str, labels: &str, bounds: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (count, bound) in self.buckets.iter().zip(bounds) {
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum_seconds);
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", self.count);
    }
}

#[derive(Debug, Default)]
struct Data {
    /// (method, route, status) → count.
    requests: BTreeMap<(String, String, u16), u64>,
    /// (method, route) → latency.
    latency: BTreeMap<(String, String), Histogram>,
    /// Final state → job duration.
    jobs: BTreeMap<&'static str, Histogram>,
}

/// The request pool and the prepared-script cache ([`super::prepared`]),
/// updated by them as they work.
#[derive(Debug, Default)]
pub struct PrepareGauges {
    /// Preparations running on a worker.
    pub busy: AtomicU64,
    /// Preparations waiting for a worker.
    pub queued: AtomicU64,
    /// Requests refused with 503 because the pool and its queue were full.
    pub rejected: AtomicU64,
    /// Preparations stopped because no request waited for them any more.
    pub cancelled: AtomicU64,
    pub hits: AtomicU64,
    pub misses: AtomicU64,
    pub cache_bytes: AtomicU64,
    pub cache_entries: AtomicU64,
}

impl PrepareGauges {
    fn write(&self, out: &mut String) {
        let read = |gauge: &AtomicU64| gauge.load(Ordering::Relaxed);
        for (name, kind, help, value) in [
            (
                "bantin_prepare_busy",
                "gauge",
                "Script preparations running for requests.",
                read(&self.busy),
            ),
            (
                "bantin_prepare_queued",
                "gauge",
                "Script preparations waiting for a worker.",
                read(&self.queued),
            ),
            (
                "bantin_prepare_rejected_total",
                "counter",
                "Requests refused (503) because the preparation queue was full.",
                read(&self.rejected),
            ),
            (
                "bantin_prepare_cancelled_total",
                "counter",
                "Preparations stopped because their requests were gone.",
                read(&self.cancelled),
            ),
            (
                "bantin_prepared_cache_hits_total",
                "counter",
                "Prepared scripts found in the cache.",
                read(&self.hits),
            ),
            (
                "bantin_prepared_cache_misses_total",
                "counter",
                "Prepared scripts not in the cache.",
                read(&self.misses),
            ),
            (
                "bantin_prepared_cache_bytes",
                "gauge",
                "Estimated bytes held by the prepared-script cache.",
                read(&self.cache_bytes),
            ),
            (
                "bantin_prepared_cache_entries",
                "gauge",
                "Prepared scripts in the cache.",
                read(&self.cache_entries),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }
    }
}

/// The process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    data: Mutex<Data>,
    /// Shared with the preparer, which updates it.
    pub prepare: Arc<PrepareGauges>,
}

impl Metrics {
    fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let mut data = self.data.lock().expect("metrics lock is never poisoned");
        *data
            .requests
            .entry((method.to_string(), route.to_string(), status))
            .or_default() += 1;
        data.latency
            .entry((method.to_string(), route.to_string()))
            .or_default()
            .observe(&LATENCY_BUCKETS_SECONDS, elapsed.as_secs_f64());
    }

    /// Records a render job that ended in `state` after `elapsed`.
    pub fn record_job(&self, state: JobState, elapsed: Duration) {
        self.data
            .lock()
            .expect("metrics lock is never poisoned")
            .jobs
            .entry(state.as_str())
            .or_default()
            .observe(&JOB_BUCKETS_SECONDS, elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition, with job counts from the store.
    pub fn exposition(&self, stations: &[StationQueue]) -> String {
        let data = self.data.lock().expect("metrics lock is never poisoned");
        let mut out = String::new();
        out.push_str("# HELP bantin_http_requests_total HTTP requests by route and status.\n");
        out.push_str("# TYPE bantin_http_requests_total counter\n");
        for ((method, route, status), count) in &data.requests {
            let _ = writeln!(
                out,
                "bantin_http_requests_total{{method=\"{method}\",route=\"{route}\",status=\"{status}\"}} {count}"
            );
        }
        out.push_str("# HELP bantin_http_request_duration_seconds Time to answer a request.\n");
        out.push_str("# TYPE bantin_http_request_duration_seconds histogram\n");
        for ((method, route), histogram) in &data.latency {
            histogram.write(
                &mut out,
                "bantin_http_request_duration_seconds",
                &format!("method=\"{method}\",route=\"{route}\""),
                &LATENCY_BUCKETS_SECONDS,
            );
        }
        out.push_str(
            "# HELP bantin_render_job_duration_seconds Time a render job ran, by outcome.\n",
        );
        out.push_str("# TYPE bantin_render_job_duration_seconds histogram\n");
        for (state, histogram) in &data.jobs {
            histogram.write(
                &mut out,
                "bantin_render_job_duration_seconds",
                &format!("state=\"{state}\""),
                &JOB_BUCKETS_SECONDS,
            );
        }
        write_queues(&mut out, stations);
        self.prepare.write(&mut out);
        out
    }
}

/// Middleware (a route layer, so the matched route is known): counts the
/// request and its latency under the route pattern, never the raw path.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    state.metrics.record_request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// One station's render queue as /metrics reports it.
#[derive(Debug, Clone)]
pub struct StationQueue {
    pub slug: String,
    /// Jobs in the store by state.
    pub counts: Vec<(JobState, i64)>,
    pub stats: crate::store::QueueStats,
}

/// The render queues by station, and the platform's workers.
fn write_queues(out: &mut String, stations: &[StationQueue]) {
    let gauge = |out: &mut String, name: &str, help: &str| {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
    };
    gauge(
        out,
        "bantin_render_jobs",
        "Render jobs in the store by station and state.",
    );
    for station in stations {
        for (state, count) in &station.counts {
            let _ = writeln!(
                out,
                "bantin_render_jobs{{station=\"{}\",state=\"{}\"}} {count}",
                station.slug,
                state.as_str()
            );
        }
    }
    gauge(
        out,
        "bantin_render_queue_depth",
        "Render jobs waiting to run, by station.",
    );
    for station in stations {
        let _ = writeln!(
            out,
            "bantin_render_queue_depth{{station=\"{}\"}} {}",
            station.slug, station.stats.queued
        );
    }
    gauge(
        out,
        "bantin_render_oldest_queued_seconds",
        "How long the oldest waiting render job has waited, by station (0 with none).",
    );
    for station in stations {
        let age = station.stats.oldest_queued_age.unwrap_or_default();
        let _ = writeln!(
            out,
            "bantin_render_oldest_queued_seconds{{station=\"{}\"}} {:.3}",
            station.slug,
            age.as_secs_f64()
        );
    }
    gauge(
        out,
        "bantin_render_latency_seconds",
        "Time from asking for a render to its audio, over the renders done in the last hour, by station (mean and 95th percentile).",
    );
    for station in stations {
        for (stat, value) in [
            ("mean", station.stats.latency_mean),
            ("p95", station.stats.latency_p95),
        ] {
            if let Some(value) = value {
                let _ = writeln!(
                    out,
                    "bantin_render_latency_seconds{{station=\"{}\",stat=\"{stat}\"}} {:.3}",
                    station.slug,
                    value.as_secs_f64()
                );
            }
        }
    }
    gauge(
        out,
        "bantin_render_done_last_hour",
        "Renders finished in the last hour, by station.",
    );
    for station in stations {
        let _ = writeln!(
            out,
            "bantin_render_done_last_hour{{station=\"{}\"}} {}",
            station.slug, station.stats.done_last_hour
        );
    }
    if let Some(first) = stations.first() {
        gauge(
            out,
            "bantin_workers",
            "Render workers of the platform seen alive, and of those draining.",
        );
        let _ = writeln!(
            out,
            "bantin_workers{{state=\"live\"}} {}",
            first.stats.live_workers
        );
        let _ = writeln!(
            out,
            "bantin_workers{{state=\"draining\"}} {}",
            first.stats.draining_workers
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposition_has_cumulative_histograms() {
        let metrics = Metrics::default();
        metrics.record_request("GET", "/a", 200, Duration::from_millis(3));
        metrics.record_request("GET", "/a", 200, Duration::from_millis(30));
        metrics.record_job(JobState::Done, Duration::from_secs(7));
        let stats = crate::store::QueueStats {
            station_id: 1,
            queued: 4,
            running: 0,
            oldest_queued_age: Some(Duration::from_secs(3)),
            done_last_hour: 1,
            latency_mean: Some(Duration::from_secs(7)),
            latency_p95: Some(Duration::from_secs(7)),
            live_workers: 2,
            draining_workers: 0,
        };
        let text = metrics.exposition(&[StationQueue {
            slug: "default".into(),
            counts: vec![(JobState::Queued, 4), (JobState::Done, 1)],
            stats,
        }]);
        assert!(
            text.contains(
                "bantin_http_requests_total{method=\"GET\",route=\"/a\",status=\"200\"} 2"
            )
        );
        assert!(text.contains(
            "bantin_http_request_duration_seconds_bucket{method=\"GET\",route=\"/a\",le=\"0.005\"} 1"
        ));
        assert!(text.contains(
            "bantin_http_request_duration_seconds_bucket{method=\"GET\",route=\"/a\",le=\"0.05\"} 2"
        ));
        assert!(
            text.contains("bantin_render_job_duration_seconds_bucket{state=\"done\",le=\"10\"} 1")
        );
        assert!(text.contains("bantin_render_queue_depth{station=\"default\"} 4"));
        assert!(text.contains("bantin_render_jobs{station=\"default\",state=\"done\"} 1"));
        assert!(
            text.contains("bantin_render_latency_seconds{station=\"default\",stat=\"p95\"} 7.000")
        );
        assert!(text.contains("bantin_workers{state=\"live\"} 2"));
        metrics.prepare.busy.fetch_add(2, Ordering::Relaxed);
        let text = metrics.exposition(&[]);
        assert!(text.contains("# TYPE bantin_prepare_busy gauge\nbantin_prepare_busy 2\n"));
    }
}
