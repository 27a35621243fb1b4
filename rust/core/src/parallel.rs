//! The one helper for spreading work over threads: deterministic, in-order results.
//!
//! Work is cut into items (row blocks, row bands) whose partition depends on the data,
//! never on the thread count, and results come back in item order, so anything reduced
//! from them in order is identical for any number of threads.

use std::sync::atomic::{AtomicUsize, Ordering};
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
    let n = items.len();
    let threads = threads.clamp(1, n.max(1));
    if threads == 1 {
        let mut s = scratch();
        return items
            .into_iter()
            .enumerate()
            .map(|(i, item)| work(i, item, &mut s))
            .collect();
    }
    let slots: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let results: Vec<Mutex<Option<T>>> = (0..n).map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let mut s = scratch();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= n {
                        break;
                    }
                    let item = slots[i].lock().expect("no panic").take().expect("once");
                    let result = work(i, item, &mut s);
                    *results[i].lock().expect("no panic") = Some(result);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|r| r.into_inner().expect("no panic").expect("every block ran"))
        .collect()
}
