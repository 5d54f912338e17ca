//! Models: the questions rules ask about a repository, answered once per check.

pub mod crds;
pub mod environments;
pub mod gitops;
pub mod helm;
pub mod iam;
pub mod identities;
pub mod kube;
pub mod live;
pub mod secrets;
pub mod steps;
pub mod terraform;
pub mod workload_identity;
pub mod workspace;

/// `f` of every item, in order, on as many threads as there are cores.
///
/// Models are built inside `OnceLock`s, and a rayon worker that waits inside one (for the
/// jobs of a `par_iter`) may pick up a job that asks for the same `OnceLock`, and wait on
/// itself. Threads of their own, joined before returning, never run anything else.
pub(crate) fn map_on_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    chunks_on_threads(items, |part| part.iter().map(&f).collect())
}

/// [`map_on_threads`] a part at a time: `f` of one contiguous part of the items per
/// thread (so a thread can reuse its scratch space from item to item), the results
/// concatenated in order.
pub(crate) fn chunks_on_threads<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&[T]) -> Vec<R> + Sync,
) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    if threads < 2 || items.len() < 2 * threads {
        return f(items);
    }
    let chunk = items.len().div_ceil(threads);
    let f = &f;
    std::thread::scope(|scope| {
        let running: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || f(part)))
            .collect();
        running
            .into_iter()
            .flat_map(|t| t.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn map_on_threads_keeps_the_order() {
        let items: Vec<u32> = (0..1000).collect();
        let out = super::map_on_threads(&items, |i| i * 2);
        assert_eq!(out, items.iter().map(|i| i * 2).collect::<Vec<_>>());
        assert!(super::map_on_threads(&[] as &[u32], |i| *i).is_empty());
    }
}
