//! The engine configurations the benchmarks time each component in.

use cloudfn_engine::Interruption;

/// The two ways the host runs guest code: without epoch checks where one
/// call has the process to itself (`cloudfn invoke`, `cloudfn stream`; a
/// watchdog ends the process at the timeout), and with them in the shared
/// server (`cloudfn up`), where one instance's timeout must not stop others.
pub const ENGINES: [(&str, Interruption); 2] = [
    ("cloudfn invoke: no epochs", Interruption::Process),
    ("cloudfn up: epoch checks", Interruption::Epoch),
];

/// One label per configuration: `component EXPORT (CONFIGURATION)`.
pub fn labels(export: &str) -> [String; 2] {
    ENGINES.map(|(config, _)| format!("component {export} ({config})"))
}
