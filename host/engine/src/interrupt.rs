//! Stopping guest code on wall-clock time, under epoch interruption.
//!
//! A ticker thread advances the engine's epoch every [`EPOCH_TICK`]; every
//! store's epoch deadline is the next tick, so each running guest is
//! checked once a tick by [`check`], which compares the clock with the
//! store's own [`GuestStop`]: its deadline (the request's, the delivery's
//! or the Lambda invocation's, as an `Instant`), whether the request that
//! started it was abandoned, and whether the whole host is shutting down.
//! Counting ticks instead would let a guest's deadline drift behind wall
//! time whenever the ticker sleeps long (a loaded machine), and a guest
//! that outlived its request would keep a core busy.
//!
//! [`Running`] counts the instances alive per component, so a shutdown can
//! say what it cut off and wait for the interrupted guests to unwind.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};
use wasmtime::UpdateDeadline;

/// How often the epoch advances: a running guest notices its deadline, a
/// cancellation or a shutdown within this long.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// What a guest interrupted by a shutdown fails with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("interrupted: the host is shutting down and its --shutdown-timeout has passed")]
pub struct Abandoned;

/// When one store's guest must stop.
#[derive(Debug, Clone)]
pub struct GuestStop {
    /// Past this instant the guest traps with `Trap::Interrupt`.
    pub deadline: Instant,
    /// Set when the request that runs the guest ended before it did.
    pub cancelled: Arc<AtomicBool>,
}

impl GuestStop {
    /// A stop at `deadline`, not cancelled.
    pub fn at(deadline: Instant) -> Self {
        Self {
            deadline,
            cancelled: Arc::default(),
        }
    }
}

/// The epoch callback of every store: carry on to the next tick, or stop.
pub fn check(stop: &GuestStop, shutdown: &AtomicBool) -> wasmtime::Result<UpdateDeadline> {
    if shutdown.load(Ordering::Relaxed) {
        return Err(Abandoned.into());
    }
    if stop.cancelled.load(Ordering::Relaxed) || Instant::now() >= stop.deadline {
        return Ok(UpdateDeadline::Interrupt);
    }
    Ok(UpdateDeadline::Continue(1))
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] until `stop` is set or
/// the engine is gone.
pub fn start_ticker(engine: wasmtime::EngineWeak, stop: Arc<AtomicBool>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("cloudfn-epoch".into())
        .spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match engine.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => break,
                }
            }
        })
        .map(drop)
}

/// The instances alive, per component id.
#[derive(Debug, Default)]
pub struct Running {
    counts: Mutex<BTreeMap<String, usize>>,
}

impl Running {
    /// Counts one more instance of `component` until the guard drops.
    pub fn enter(self: &Arc<Self>, component: &str) -> RunningGuard {
        if let Ok(mut counts) = self.counts.lock() {
            *counts.entry(component.to_owned()).or_default() += 1;
        }
        RunningGuard {
            running: Arc::downgrade(self),
            component: component.to_owned(),
        }
    }

    /// The components with instances alive, and how many each.
    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    /// Instances alive in all.
    pub fn total(&self) -> usize {
        self.snapshot().values().sum()
    }
}

/// One instance counted in [`Running`]; held by its store.
#[derive(Debug)]
pub struct RunningGuard {
    running: Weak<Running>,
    component: String,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        let Some(running) = self.running.upgrade() else {
            return;
        };
        if let Ok(mut counts) = running.counts.lock()
            && let Some(n) = counts.get_mut(&self.component)
        {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.component);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guest_carries_on_until_its_deadline_its_cancellation_or_a_shutdown() {
        let shutdown = AtomicBool::new(false);
        let stop = GuestStop::at(Instant::now() + Duration::from_secs(60));
        assert!(matches!(
            check(&stop, &shutdown).expect("runs"),
            UpdateDeadline::Continue(1)
        ));
        let late = GuestStop::at(Instant::now());
        assert!(matches!(
            check(&late, &shutdown).expect("stops"),
            UpdateDeadline::Interrupt
        ));
        stop.cancelled.store(true, Ordering::Relaxed);
        assert!(matches!(
            check(&stop, &shutdown).expect("stops"),
            UpdateDeadline::Interrupt
        ));
        shutdown.store(true, Ordering::Relaxed);
        let Err(error) = check(
            &GuestStop::at(Instant::now() + Duration::from_secs(60)),
            &shutdown,
        ) else {
            panic!("a shutdown stops every guest");
        };
        assert!(error.downcast_ref::<Abandoned>().is_some());
    }

    #[test]
    fn running_instances_are_counted_per_component_until_their_guards_drop() {
        let running = Arc::new(Running::default());
        let a = running.enter("a");
        let b1 = running.enter("b");
        let b2 = running.enter("b");
        assert_eq!(
            running.snapshot(),
            [("a".to_owned(), 1), ("b".to_owned(), 2)].into()
        );
        drop((a, b1));
        assert_eq!(running.snapshot(), [("b".to_owned(), 1)].into());
        drop(b2);
        assert_eq!(running.total(), 0);
    }
}
