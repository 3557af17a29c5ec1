//! `sentiment` throughput side by side, in one run, on the same 10,000
//! tweet-like texts: `score-batch` in the component (wasmtime, fresh
//! instance; once as `cloudfn invoke` runs it, without epoch checks, once as
//! `cloudfn up` does, with them), the same Rust code built natively, and
//! vaderSentiment 3.3.2 in Python. Run with `cargo bench -p cloudfn --bench sentiment`
//! (needs `pip install vaderSentiment==3.3.2`). Not run in CI.

#[allow(dead_code)]
#[path = "../../../tests/e2e/common.rs"]
mod common;
mod engines;

use cloudfn_engine::Runtime;
use cloudfn_engine::limits::Limits;
use cloudfn_manifest::Manifest;
use engines::ENGINES;
use std::process::Command;
use std::time::{Duration, Instant};

/// Typed bindings of the scorer, as an embedder would call it.
mod bindings {
    wasmtime::component::bindgen!({
        path: ["../../wit/platform", "../../wit/sentiment"],
        world: "cloudfn:sentiment/typed-scorer",
        exports: { default: async },
    });
}

const TEXTS: usize = 10_000;
const ROUNDS: usize = 10;

/// 10,000 tweet-like texts: the parity corpus's short texts, cycled, each made distinct.
fn texts() -> Vec<String> {
    let corpus = std::fs::read_to_string(
        common::repo_root().join("functions/sentiment-score/tests/parity/corpus.jsonl"),
    )
    .expect("parity corpus");
    let base: Vec<String> = corpus
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_owned))
        .filter(|t| !t.trim().is_empty() && t.chars().count() <= 280)
        .collect();
    (0..TEXTS)
        .map(|i| format!("{} #{}", base[i % base.len()], i / base.len()))
        .collect()
}

fn best(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[0]
}

fn main() {
    let texts = texts();

    // The component, through wasmtime: a fresh instance per round, one
    // score-batch call, in both engine configurations, rounds interleaved.
    let manifest = Manifest::load(common::product_manifest()).expect("product manifest");
    let engines = ENGINES.map(|(_, interruption)| {
        let runtime =
            Runtime::with_interruption(Limits::default(), None, interruption).expect("engine");
        let component = runtime
            .load(&manifest, "sentiment")
            .expect("sentiment component");
        let pre =
            bindings::TypedScorerPre::new(component.instance_pre.clone()).expect("typed exports");
        (runtime, component, pre)
    });
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let empty: Vec<String> = Vec::new();
    let mut wasm_runs = [Vec::new(), Vec::new()];
    let mut setup_runs = [Vec::new(), Vec::new()];
    let mut checksums_wasm = [0.0; 2];
    for (e, (runtime, component, pre)) in engines.iter().enumerate() {
        for round in 0..ROUNDS * 2 {
            // Odd rounds time the fixed cost alone: instantiation and the lexicon load (an empty batch).
            let batch = if round % 2 == 0 { &texts } else { &empty };
            let started = Instant::now();
            let checksum = tokio.block_on(async {
                let mut store = runtime.new_store(component).expect("store");
                let sentiment = pre.instantiate_async(&mut store).await.expect("instance");
                let scores = sentiment
                    .cloudfn_sentiment_scorer()
                    .call_score_batch(&mut store, batch)
                    .await
                    .expect("score-batch call");
                scores.iter().map(|s| s.compound).sum::<f64>()
            });
            if round % 2 == 0 {
                wasm_runs[e].push(started.elapsed());
                checksums_wasm[e] = checksum;
            } else {
                setup_runs[e].push(started.elapsed());
            }
        }
    }

    // The same Rust code, native (scorer construction included, as in the component).
    let mut native_runs = Vec::new();
    let mut checksum_native = 0.0;
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let mut scorer = sentiment_score::scoring::Scorer::new();
        checksum_native = texts.iter().map(|t| scorer.score(t).compound).sum();
        native_runs.push(started.elapsed());
    }
    for checksum_wasm in checksums_wasm {
        assert!(
            (checksum_wasm - checksum_native).abs() < 1e-9,
            "component and native disagree"
        );
    }

    // vaderSentiment 3.3.2 in Python, same texts, best of the same rounds.
    let input = std::env::temp_dir().join("cloudfn-sentiment-bench.json");
    std::fs::write(&input, serde_json::to_string(&texts).expect("json")).expect("write texts");
    let script = format!(
        r#"
import json, time
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
texts = json.load(open({path:?}))
best = None
for _ in range({ROUNDS}):
    t = time.perf_counter()
    a = SentimentIntensityAnalyzer()
    total = sum(a.polarity_scores(x)["compound"] for x in texts)
    d = time.perf_counter() - t
    best = d if best is None else min(best, d)
print(best, total)
"#,
        path = input.display().to_string()
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3");
    assert!(
        output.status.success(),
        "python: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let mut parts = stdout.split_whitespace();
    let python =
        Duration::from_secs_f64(parts.next().and_then(|v| v.parse().ok()).expect("seconds"));
    let checksum_python: f64 = parts.next().and_then(|v| v.parse().ok()).expect("checksum");
    assert!(
        (checksum_python - checksum_native).abs() < 1e-6,
        "python and rust disagree"
    );

    let native = best(native_runs);
    let wasm = wasm_runs.map(best);
    let rate = |d: Duration| TEXTS as f64 / d.as_secs_f64();
    println!("{TEXTS} texts, best of {ROUNDS} rounds (scorer construction included)");
    println!("{:<52} {:>8} {:>12}", "implementation", "ms", "texts/s");
    let labels = engines::labels("score-batch");
    for (name, d) in labels.iter().map(String::as_str).zip(wasm).chain([
        ("same Rust code, native", native),
        ("vaderSentiment 3.3.2 (Python)", python),
    ]) {
        println!(
            "{name:<52} {:>8.1} {:>12.0}",
            d.as_secs_f64() * 1000.0,
            rate(d)
        );
    }
    for ((name, wasm), setup) in labels.iter().zip(wasm).zip(setup_runs) {
        println!("{name}:");
        println!(
            "  instantiation and lexicon load (an empty batch): {:.2} ms",
            best(setup).as_secs_f64() * 1000.0
        );
        println!(
            "  vs Python: {:.1}x the throughput; / native time ratio: {:.2}",
            python.as_secs_f64() / wasm.as_secs_f64(),
            wasm.as_secs_f64() / native.as_secs_f64()
        );
    }
}
