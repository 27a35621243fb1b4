//! The one helper for spreading work over threads: deterministic, in-order results.
//!
//! Work is cut into items (row blocks, row bands) whose partition depends on the data,
//! never on the thread count, and results come back in item order, so anything reduced
//! from them in order is identical for any number of threads.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Worker threads for `threads` (0 = every core).
pub fn thread_count(threads: usize) -> usize {
    match threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        t => t,
    }
}

/// Runs `work(index, item, scratch)` on every item, spread over up to `threads` threads
/// (each with its own `scratch`), and returns the results in item order. Items are row
/// blocks whose partition does not depend on the thread count, so anything reduced from
/// the results in order is identical for any number of threads.
pub fn par_blocks<I: Send, T: Send, S>(
    items: Vec<I>,
    threads: usize,
    scratch: impl Fn() -> S + Sync,
    work: impl Fn(usize, I, &mut S) -> T + Sync,
) -> Vec<T> {
    par_blocks_observed(items, threads, scratch, work, |_, _| true)
        .expect("an observer that never stops")
}

/// [`par_blocks`] that shows each result, as it is done, to `observe(done, result)` on
/// the calling thread (progress bars and cancellation that must stay on the caller's
/// thread, such as a JVM callback). `observe` returning `false` stops the work: items
/// not yet started are dropped and `None` is returned.
pub fn par_blocks_observed<I: Send, T: Send, S>(
    items: Vec<I>,
    threads: usize,
    scratch: impl Fn() -> S + Sync,
    work: impl Fn(usize, I, &mut S) -> T + Sync,
    mut observe: impl FnMut(usize, &T) -> bool,
) -> Option<Vec<T>> {
    let n = items.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        let mut s = scratch();
        let mut results = Vec::with_capacity(n);
        for (i, item) in items.into_iter().enumerate() {
            let result = work(i, item, &mut s);
            if !observe(i + 1, &result) {
                return None;
            }
            results.push(result);
        }
        return Some(results);
    }
    let slots: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let mut results: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = std::sync::mpsc::channel();
    let finished = std::thread::scope(|scope| {
        for _ in 0..threads {
            let sender = sender.clone();
            let (slots, next, stop, scratch, work) = (&slots, &next, &stop, &scratch, &work);
            scope.spawn(move || {
                let mut s = scratch();
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let item = slots[i].lock().expect("no panic").take().expect("once");
                    if sender.send((i, work(i, item, &mut s))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        let mut done = 0;
        // Ends when every worker has finished and dropped its sender.
        for (i, result) in receiver {
            done += 1;
            if !observe(done, &result) {
                stop.store(true, Ordering::Relaxed);
                return false;
            }
            results[i] = Some(result);
        }
        true
    });
    finished.then(|| {
        results
            .into_iter()
            .map(|r| r.expect("every block ran"))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn observed_results_are_in_item_order_and_can_stop() {
        for threads in [1, 3] {
            let mut seen = Vec::new();
            let results = par_blocks_observed(
                (0..20).collect(),
                threads,
                || (),
                |_, v: usize, _| v * v,
                |done, _| {
                    seen.push(done);
                    true
                },
            );
            assert_eq!(results, Some((0..20).map(|v| v * v).collect()));
            assert_eq!(seen, (1..=20).collect::<Vec<_>>());
            let stopped = par_blocks_observed(
                (0..20).collect(),
                threads,
                || (),
                |_, v: usize, _| v,
                |done, _| done < 5,
            );
            assert_eq!(stopped, None);
        }
    }
}
