//! The timeout of a runtime without epoch interruption
//! ([`Interruption::Process`](super::Interruption::Process)): guest code has
//! no checks, so nothing inside the process can stop a call that runs on;
//! a watchdog thread ends the whole process instead, the way `timeout(1)`,
//! Hadoop (a task attempt that stops making progress) and Lambda (an
//! invocation past its timeout) do. Only for commands that run one job per
//! process: `cloudfn invoke` and `cloudfn stream`.

use std::sync::mpsc;
use std::time::Duration;

/// Exit status of a process stopped by the watchdog, as `timeout(1)`.
pub const TIMEOUT_STATUS: i32 = 124;

/// Ends the process when a watched call runs longer than the timeout.
/// Dropping it (say, on an early error return) stops its thread without
/// ending anything: a dropped sender is a disconnected channel.
pub struct Watchdog {
    calls: mpsc::Sender<bool>,
}

impl Watchdog {
    /// Starts the watchdog thread. A call that outruns `timeout` makes it
    /// print `error: {what} ran longer than the timeout ({timeout:?}, --timeout); stopped`
    /// on stderr and exit with [`TIMEOUT_STATUS`].
    pub fn start(timeout: Duration, what: String) -> std::io::Result<Self> {
        let (calls, watched) = mpsc::channel::<bool>();
        std::thread::Builder::new()
            .name("cloudfn-watchdog".into())
            .spawn(move || {
                while let Ok(started) = watched.recv() {
                    if !started {
                        continue;
                    }
                    match watched.recv_timeout(timeout) {
                        Ok(_) => {}
                        Err(mpsc::RecvTimeoutError::Timeout) => {
                            eprintln!(
                                "error: {what} ran longer than the timeout ({timeout:?}, --timeout); stopped"
                            );
                            std::process::exit(TIMEOUT_STATUS);
                        }
                        Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            })?;
        Ok(Self { calls })
    }

    /// A call into the guest starts: its time runs from now.
    pub fn call_started(&self) {
        // The thread only returns once `self` is dropped; a send cannot fail.
        let _ = self.calls.send(true);
    }

    /// The call returned in time.
    pub fn call_ended(&self) {
        let _ = self.calls.send(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A watchdog that fired would end the test process (status 124), failing the run.

    #[test]
    fn a_call_that_ends_in_time_ends_nothing() {
        let watchdog = Watchdog::start(Duration::from_millis(50), "test".into()).expect("thread");
        for _ in 0..3 {
            watchdog.call_started();
            watchdog.call_ended();
        }
        std::thread::sleep(Duration::from_millis(200));
    }

    #[test]
    fn dropping_an_armed_watchdog_ends_nothing() {
        let watchdog = Watchdog::start(Duration::from_millis(50), "test".into()).expect("thread");
        watchdog.call_started();
        drop(watchdog);
        std::thread::sleep(Duration::from_millis(200));
    }
}
