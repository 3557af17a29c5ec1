//! What one Argon2id verification (OWASP's parameters) costs natively: the
//! anchor `bench/accounts.sh` sets beside a login in the sandbox.
//!
//!     cargo run --release -p drive-users --example hash_cost -- [N]

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(50);
    let stored = drive_users::password::hash("correct horse battery").expect("hash");
    let mut ms: Vec<f64> = (0..n)
        .map(|_| {
            let start = std::time::Instant::now();
            assert!(drive_users::password::verify(
                "correct horse battery",
                &stored
            ));
            start.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    ms.sort_by(f64::total_cmp);
    let pct = |p: f64| ms[((ms.len() - 1) as f64 * p).round() as usize];
    println!(
        "native verify: n={n} p50={:.1} ms p99={:.1} ms ({:.1}/s on one core)",
        pct(0.5),
        pct(0.99),
        1e3 / pct(0.5)
    );
}
