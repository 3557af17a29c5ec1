//! Outbound MQTT: `fermyon:spin/mqtt@2.0.0` and `spin:mqtt/mqtt@3.0.0`
//! publishing to a real mosquitto broker, to a subscribed test client, at
//! each QoS; refused without an allowed address.

use super::{SDKS, manifest_with};
use crate::common::{Host, HostBuilder};
use crate::servers::mosquitto;
use rumqttc::{Client, Event, Incoming, MqttOptions, QoS};
use std::sync::mpsc;
use std::time::Duration;

fn host_allowing(dir: &std::path::Path, port: u16, allowed: &str) -> Host {
    let address = format!("mqtt://127.0.0.1:{port}?client_id=cloudfn-test");
    host_opening(dir, &address, allowed)
}

/// A host whose guests open `address`, with `allowed` granted.
fn host_opening(dir: &std::path::Path, address: &str, allowed: &str) -> Host {
    let manifest = manifest_with(
        dir,
        &format!("mqtt_address = {{ default = {address:?} }}"),
        &format!(
            "allowed_outbound_hosts = [{allowed:?}]\nvariables = {{ mqtt_address = \"{{{{ mqtt_address }}}}\" }}"
        ),
    );
    HostBuilder::manifest(manifest).start()
}

/// A client subscribed to `topic`; the payloads it receives.
fn subscriber(port: u16, topic: &str) -> mpsc::Receiver<Vec<u8>> {
    let mut options = MqttOptions::new("test-subscriber", "127.0.0.1", port);
    options.set_keep_alive(Duration::from_secs(5));
    let (client, mut connection) = Client::new(options, 16);
    client
        .subscribe(topic, QoS::AtLeastOnce)
        .expect("subscribe");
    let (tx, rx) = mpsc::channel();
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _client = client;
        for event in connection.iter() {
            match event {
                Ok(Event::Incoming(Incoming::SubAck(_))) => {
                    let _ = ready_tx.send(());
                }
                Ok(Event::Incoming(Incoming::Publish(p))) => {
                    if tx.send(p.payload.to_vec()).is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("subscribed");
    rx
}

#[test]
fn mqtt_publishes_reach_a_subscriber_at_each_qos_in_both_sdks() {
    let broker = mosquitto();
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(
        dir.path(),
        broker.port,
        &format!("mqtt://127.0.0.1:{}", broker.port),
    );
    let received = subscriber(broker.port, "sensors-temp");
    for sdk in SDKS {
        for qos in 0..3 {
            let payload = format!("{sdk} qos {qos}");
            let reply = host.request(
                "POST",
                &format!("{sdk}/mqtt/sensors-temp?qos={qos}"),
                &[],
                Some(payload.as_bytes()),
            );
            assert_eq!(reply.status, 204, "{sdk} qos {qos}: {}", reply.body);
            let got = received
                .recv_timeout(Duration::from_secs(10))
                .expect("the subscriber got it");
            assert_eq!(String::from_utf8_lossy(&got), payload);
        }
    }
}

#[test]
fn mqtt_is_refused_without_an_allowed_address() {
    let broker = mosquitto();
    let dir = tempfile::tempdir().expect("dir");
    let host = host_allowing(dir.path(), broker.port, "mqtt://broker.example.com");
    let address = format!("mqtt://127.0.0.1:{}?client_id=cloudfn-test", broker.port);
    for sdk in SDKS {
        let reply = host.request("POST", &format!("{sdk}/mqtt/t"), &[], Some(b"x"));
        assert_eq!(
            (reply.status, reply.body.as_str()),
            (
                409,
                format!("Error::ConnectionFailed(\"address {address} is not permitted\")").as_str()
            ),
            "{sdk}"
        );
    }
}

/// Regression: an address not granted was `invalid-address`, where Spin
/// answers `connection-failed("address … is not permitted")`; Spin checks
/// the grant first, then whether rumqttc reads the address (client id
/// included), which alone is `invalid-address`.
#[test]
fn regression_mqtt_refusals_are_spins_error_values() {
    let broker = mosquitto();
    let port = broker.port;
    let granted = format!("mqtt://127.0.0.1:{port}");
    let not_permitted =
        |address: &str| format!("Error::ConnectionFailed(\"address {address} is not permitted\")");
    let with_id = format!("mqtt://127.0.0.1:{port}?client_id=spintest");
    let without_query = format!("mqtt://127.0.0.1:{port}");
    let other_scheme = format!("http://127.0.0.1:{port}?client_id=spintest");
    let cases: Vec<(&str, &str, String)> = vec![
        // Granted, with a client id: it publishes.
        (&with_id, &granted, String::new()),
        // Not granted, with and without a query string.
        (
            &with_id,
            "mqtt://broker.example.com",
            not_permitted(&with_id),
        ),
        (
            &without_query,
            "mqtt://broker.example.com",
            not_permitted(&without_query),
        ),
        // Granted, but no client id: rumqttc cannot read it.
        (&without_query, &granted, "Error::InvalidAddress".into()),
        // Granted (every host), but not an MQTT URL.
        (&other_scheme, "*://*:*", "Error::InvalidAddress".into()),
        // Not a URL at all: nothing can grant it.
        ("not a url", "*://*:*", not_permitted("not a url")),
    ];
    for (address, allowed, expected) in cases {
        let dir = tempfile::tempdir().expect("dir");
        let host = host_opening(dir.path(), address, allowed);
        for sdk in SDKS {
            let reply = host.request("POST", &format!("{sdk}/mqtt/t"), &[], Some(b"x"));
            let expected_status = if expected.is_empty() { 204 } else { 409 };
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (expected_status, expected.as_str()),
                "{sdk}: open({address:?}) with {allowed:?} granted"
            );
        }
    }
}
