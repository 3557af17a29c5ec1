//! The handles one instance holds open on a service (stores, databases,
//! connections): kept in the instance's resource table and counted, so a
//! service can refuse one more beyond its limit with its own error value
//! (`store-table-full`, `too-many-connections`), as Spin does.

use wasmtime::component::{Resource, ResourceTable};

/// How many handles of one service an instance holds open (a copy is a
/// snapshot, for the async interfaces to check the limit outside the store).
#[derive(Debug, Default, Clone, Copy)]
pub struct OpenHandles {
    open: usize,
}

impl OpenHandles {
    /// Whether `max` are open already.
    pub fn reached(&self, max: usize) -> bool {
        self.open >= max
    }

    /// Puts `handle` in `table` for the guest, as the resource type `R` of
    /// the interface it was opened through (several interfaces may share one
    /// handle type).
    pub fn push<H: Send + 'static, R: 'static>(
        &mut self,
        table: &mut ResourceTable,
        handle: H,
    ) -> wasmtime::Result<Resource<R>> {
        let pushed = table.push(handle)?;
        self.open += 1;
        Ok(Resource::new_own(pushed.rep()))
    }

    /// A copy of the handle behind `resource`.
    pub fn get<H: Clone + 'static, R: 'static>(
        table: &ResourceTable,
        resource: &Resource<R>,
    ) -> wasmtime::Result<H> {
        Ok(table
            .get(&Resource::<H>::new_borrow(resource.rep()))?
            .clone())
    }

    /// Closes the handle behind `resource` (the guest dropped it).
    pub fn close<H: 'static, R: 'static>(
        &mut self,
        table: &mut ResourceTable,
        resource: Resource<R>,
    ) -> wasmtime::Result<()> {
        table.delete(Resource::<H>::new_own(resource.rep()))?;
        self.open -= 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guest-facing resource type sharing the handle type `String`.
    struct Store;

    #[test]
    fn handles_are_counted_against_the_limit_and_released_on_close() {
        let mut table = ResourceTable::new();
        let mut open = OpenHandles::default();
        let first: Resource<Store> = open.push(&mut table, "a".to_owned()).expect("push");
        let second: Resource<Store> = open.push(&mut table, "b".to_owned()).expect("push");
        assert!(open.reached(2) && !open.reached(3));
        assert_eq!(
            OpenHandles::get::<String, _>(&table, &second).expect("get"),
            "b"
        );
        open.close::<String, _>(&mut table, first).expect("close");
        assert!(!open.reached(2));
        assert_eq!(
            OpenHandles::get::<String, _>(&table, &second).expect("get"),
            "b"
        );
    }
}
