//! Who may start an instance: one of `--max-concurrent` instance slots, and
//! room in the memory budget (`--max-total-memory`) for the whole linear
//! memory the component may grow to (its own `max_memory`, or
//! `--max-memory`). Reserving the limit, not the use, is what makes the
//! budget a guarantee: an admitted instance can always grow to its limit,
//! and the sum of the limits of running instances never exceeds the budget,
//! so load cannot push the host out of memory — only make it answer `503`.
//!
//! HTTP requests and event deliveries draw on the same slots and budget.

use crate::limits::format_size;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The budget is counted in these units (semaphore permits are `u32`).
const UNIT: u64 = 1 << 20;

/// Instance slots and the memory budget, shared by every trigger.
pub struct Admission {
    instances: Arc<Semaphore>,
    max_instances: u32,
    memory: Arc<Semaphore>,
    total_memory: u64,
}

/// The right to run one instance; dropping it returns its slot and memory.
pub struct Ticket {
    _instance: OwnedSemaphorePermit,
    _memory: MemoryReservation,
}

/// Memory reserved in the budget for one instance.
pub struct MemoryReservation {
    _permit: OwnedSemaphorePermit,
}

/// Why an instance was not admitted.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    /// Every instance slot is taken.
    #[error("at capacity: {max} instances are running (--max-concurrent); retry shortly")]
    Instances {
        /// `--max-concurrent`.
        max: u32,
    },
    /// The budget has no room for this component's memory limit.
    #[error(
        "at capacity: the memory budget of {} (--max-total-memory) has no room for another {} instance of `{component}`; retry shortly",
        format_size(*total),
        format_size(*needed)
    )]
    Memory {
        /// The component.
        component: String,
        /// What it reserves.
        needed: u64,
        /// `--max-total-memory`.
        total: u64,
    },
}

impl Admission {
    /// `max_instances` slots and a budget of `total_memory` bytes.
    pub fn new(max_instances: u32, total_memory: u64) -> Self {
        Self {
            instances: Arc::new(Semaphore::new(max_instances as usize)),
            max_instances,
            memory: Arc::new(Semaphore::new(units(total_memory) as usize)),
            total_memory,
        }
    }

    /// The instance slots alone, for a trigger that takes slots in batches
    /// before it knows which component each one is for (the event
    /// broker); it then reserves memory with [`Self::reserve_memory`].
    pub fn instances(&self) -> &Arc<Semaphore> {
        &self.instances
    }

    /// `--max-total-memory`.
    pub fn total_memory(&self) -> u64 {
        self.total_memory
    }

    /// Admits an instance of `component` that may grow to `memory` bytes:
    /// a slot now or never (`503` at once, as before), memory now or within
    /// `wait` (a burst of large requests drains quickly).
    pub async fn admit(
        &self,
        component: &str,
        memory: u64,
        wait: Duration,
    ) -> Result<Ticket, Refusal> {
        let instance =
            self.instances
                .clone()
                .try_acquire_owned()
                .map_err(|_| Refusal::Instances {
                    max: self.max_instances,
                })?;
        let refused = || Refusal::Memory {
            component: component.to_owned(),
            needed: memory,
            total: self.total_memory,
        };
        let permits = units(memory);
        let memory = match self.memory.clone().try_acquire_many_owned(permits) {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(wait, self.memory.clone().acquire_many_owned(permits))
                .await
                .map_err(|_| refused())?
                .map_err(|_| refused())?,
        };
        Ok(Ticket {
            _instance: instance,
            _memory: MemoryReservation { _permit: memory },
        })
    }

    /// Reserves `memory` bytes, waiting as long as it takes (event
    /// deliveries wait in their queue rather than fail).
    pub async fn reserve_memory(&self, memory: u64) -> MemoryReservation {
        let permit = self
            .memory
            .clone()
            .acquire_many_owned(units(memory))
            .await
            .expect("the budget's semaphore is never closed");
        MemoryReservation { _permit: permit }
    }
}

/// Whole units, rounded up, at least one.
fn units(bytes: u64) -> u32 {
    u32::try_from(bytes.div_ceil(UNIT).max(1)).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    #[tokio::test]
    async fn the_budget_admits_limits_that_fit_and_refuses_the_rest_by_name() {
        let admission = Admission::new(10, 512 * MIB);
        let wait = Duration::from_millis(20);
        let a = admission
            .admit("image", 256 * MIB, wait)
            .await
            .expect("fits");
        let _b = admission
            .admit("image", 256 * MIB, wait)
            .await
            .expect("fits");
        let refused = admission.admit("image", 256 * MIB, wait).await.err();
        assert_eq!(
            refused,
            Some(Refusal::Memory {
                component: "image".into(),
                needed: 256 * MIB,
                total: 512 * MIB
            })
        );
        assert!(
            refused
                .unwrap()
                .to_string()
                .contains("512MiB (--max-total-memory) has no room for another 256MiB")
        );
        drop(a);
        admission
            .admit("image", 256 * MIB, wait)
            .await
            .expect("freed");
    }

    #[tokio::test]
    async fn a_request_waits_briefly_for_memory_being_freed() {
        let admission = Arc::new(Admission::new(10, 256 * MIB));
        let held = admission
            .admit("a", 256 * MIB, Duration::ZERO)
            .await
            .expect("fits");
        let waiting = {
            let admission = admission.clone();
            tokio::spawn(async move {
                admission
                    .admit("b", 64 * MIB, Duration::from_secs(5))
                    .await
                    .is_ok()
            })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        drop(held);
        assert!(waiting.await.unwrap(), "admitted once the memory was freed");
    }

    #[tokio::test]
    async fn instance_slots_are_refused_at_once_and_small_limits_share_the_budget() {
        let admission = Admission::new(2, 8 * MIB);
        let _a = admission.admit("a", 1, Duration::ZERO).await.expect("slot");
        let _b = admission.admit("b", 1, Duration::ZERO).await.expect("slot");
        assert_eq!(
            admission.admit("c", 1, Duration::ZERO).await.err(),
            Some(Refusal::Instances { max: 2 })
        );
        // Events: a reservation waits, then proceeds.
        let reservation = admission.reserve_memory(6 * MIB).await;
        drop(reservation);
    }
}
