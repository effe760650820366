//! The generator's requests have the asked shape; seeds reproduce them.

use super::*;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

fn shape(records: usize) -> Shape {
    Shape {
        records,
        resources: 3,
        scopes: 2,
        ..Shape::default()
    }
}

#[test]
fn counts_follow_the_shape() {
    let s = shape(1001);
    let stamps = Stamps::default();
    let logs = logs(&s, &stamps, 0);
    assert_eq!(logs.resource_logs.len(), 3);
    let n: usize = logs
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum();
    assert_eq!(n, 1001);
    let traces = traces(&s, &stamps, 1);
    let n: usize = traces
        .resource_spans
        .iter()
        .flat_map(|r| &r.scope_spans)
        .map(|s| s.spans.len())
        .sum();
    assert_eq!(n, 1001);
    let metrics = metrics(&s, &stamps, 2);
    assert_eq!(crate::loadgen::pool::count_points(&metrics), 1001);
}

#[test]
fn bodies_and_attributes_have_the_asked_size() {
    let s = Shape {
        records: 10,
        attributes: 12,
        body_size: 333,
        ..Shape::default()
    };
    let logs = logs(&s, &Stamps::default(), 0);
    let r = &logs.resource_logs[0].scope_logs[0].log_records[0];
    assert_eq!(r.attributes.len(), 12);
    assert_eq!(r.attributes[11].key, "attr.11");
    match &r.body.as_ref().and_then(|b| b.value.as_ref()) {
        Some(Value::StringValue(b)) => assert_eq!(b.len(), 333),
        other => panic!("body {other:?}"),
    }
}

#[test]
fn cardinality_bounds_the_distinct_values() {
    let s = Shape {
        records: 2000,
        cardinality: 7,
        ..Shape::default()
    };
    let logs = logs(&s, &Stamps::default(), 0);
    let users: std::collections::HashSet<_> = logs.resource_logs[0].scope_logs[0]
        .log_records
        .iter()
        .map(|r| format!("{:?}", r.attributes[3].value))
        .collect();
    assert_eq!(users.len(), 7);
}

#[test]
fn same_seed_same_request_other_seed_other_request() {
    let s = shape(50);
    let mut a = traces(&s, &Stamps::default(), 0);
    let mut b = traces(&s, &Stamps::default(), 0);
    // The clock moves between the two; compare everything else.
    let strip = |t: &mut ExportTraceServiceRequest| {
        for s in t
            .resource_spans
            .iter_mut()
            .flat_map(|r| &mut r.scope_spans)
            .flat_map(|s| &mut s.spans)
        {
            s.start_time_unix_nano = 0;
            s.end_time_unix_nano = 0;
            for e in &mut s.events {
                e.time_unix_nano = 0;
            }
        }
    };
    strip(&mut a);
    strip(&mut b);
    assert_eq!(a, b);
    let mut c = traces(&Shape { seed: 2, ..s }, &Stamps::default(), 0);
    strip(&mut c);
    assert_ne!(a, c);
}

#[test]
fn generated_text_never_holds_the_placeholder_mark() {
    // JSON spells ids in hex and numbers in decimal: any `~` would be generated text.
    let s = shape(500);
    for json in [
        serde_json::to_vec(&logs(&s, &Stamps::default(), 3)),
        serde_json::to_vec(&traces(&s, &Stamps::default(), 3)),
        serde_json::to_vec(&metrics(&s, &Stamps::default(), 3)),
    ] {
        assert!(!json.expect("serializes").contains(&b'~'));
    }
}

#[test]
fn placeholders_are_stamp_wide() {
    assert_eq!(placeholder(StampKind::Seq, 12).len(), STAMP_WIDTH);
    assert_eq!(placeholder(StampKind::Request, 0), "~lg~r00000000000");
}
