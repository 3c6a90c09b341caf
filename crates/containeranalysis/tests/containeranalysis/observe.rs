//! Calls are named `gar.containeranalysis.*` in the transport's metrics, whichever protocol.

use gar_auth::{SecretString, StaticToken};
use gar_transport::Transport;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_sdk::metrics::data::{AggregatedMetrics, MetricData, ResourceMetrics};
use opentelemetry_sdk::metrics::{InMemoryMetricExporter, PeriodicReader, SdkMeterProvider};

use crate::common::*;

/// The sum of the data points of counter `name` whose attributes include `with`.
fn counter(metrics: &[ResourceMetrics], name: &str, with: &[(&str, &str)]) -> u64 {
    let mut total = 0;
    for rm in metrics {
        for sm in rm.scope_metrics() {
            for m in sm.metrics().filter(|m| m.name() == name) {
                if let AggregatedMetrics::U64(MetricData::Sum(sum)) = m.data() {
                    for dp in sum.data_points() {
                        let attrs: Vec<(String, String)> = dp
                            .attributes()
                            .map(|kv| (kv.key.to_string(), kv.value.to_string()))
                            .collect();
                        if with
                            .iter()
                            .all(|(k, v)| attrs.iter().any(|(ak, av)| ak == k && av == v))
                        {
                            total += dp.value();
                        }
                    }
                }
            }
        }
    }
    total
}

#[tokio::test]
async fn operations_are_named_in_the_metrics() {
    let emu = start().await;
    let exporter = InMemoryMetricExporter::default();
    let provider = SdkMeterProvider::builder()
        .with_reader(PeriodicReader::builder(exporter.clone()).build())
        .build();
    let transport = Transport::builder()
        .meter(provider.meter("gar"))
        .breaker(None)
        .build()
        .unwrap()
        .with_credentials(std::sync::Arc::new(StaticToken::new(SecretString::new(
            DEMO_TOKEN,
        ))));
    for protocol in PROTOCOLS {
        let client = client_with(&emu, protocol, transport.clone());
        client.list_occurrences(&project()).send().await.unwrap();
        client
            .vulnerability_summary(&project())
            .send()
            .await
            .unwrap();
        client
            .get_occurrence("projects/demo-project/occurrences/nope")
            .send()
            .await
            .unwrap_err();
    }
    provider.force_flush().unwrap();
    let metrics = exporter.get_finished_metrics().unwrap();
    let ops = "gar_operations_total";
    for (operation, method) in [
        ("gar.containeranalysis.occurrences.list", "GET"),
        ("gar.containeranalysis.vulnerabilitySummary.get", "GET"),
    ] {
        let ok = [("gar.operation", operation), ("outcome", "ok")];
        assert_eq!(counter(&metrics, ops, &ok), 2, "{operation}: gRPC and REST");
        let rest = [
            ("gar.operation", operation),
            ("http.request.method", method),
        ];
        assert_eq!(counter(&metrics, ops, &rest), 1, "{operation} over REST");
    }
    let not_found = [
        ("gar.operation", "gar.containeranalysis.occurrences.get"),
        ("error.type", "NOT_FOUND"),
    ];
    assert_eq!(counter(&metrics, "gar_errors_total", &not_found), 2);
}
