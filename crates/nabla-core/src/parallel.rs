//! The threads behind large kernels and GEMM: a fork-join team in the manner of OpenMP. The
//! calling thread publishes a set of tasks, takes part in running them, and waits until all are
//! done; helper threads that have just finished a job keep polling for the next one for a short
//! while before they go to sleep.
//!
//! A training step is a sequence of kernels each a few tens of microseconds long, separated by
//! serial work of similar length. A pool whose idle threads sleep at once (rayon's) pays a
//! futex wake-up, and on a virtual machine an inter-processor interrupt, at every kernel; that
//! costs more than splitting a 100×784×100 product gains. Polling helpers start a task in well
//! under a microsecond.
//!
//! The team has one helper fewer than [`num_threads`]; it starts with the first parallel kernel.
//! Tasks are claimed dynamically, but each task computes a fixed part of the output, so results
//! do not depend on which thread ran what. The calling thread claims tasks from the front and
//! the helpers from the back: with two threads each kernel's first half runs on the caller and
//! its second half on the helper, so the part of a buffer one kernel writes (an optimiser's
//! update of a weight) is in the cache of the core the next kernel reads it on (the GEMM strip
//! that packs that weight), unless one thread falls behind and the other takes its tasks.
//!
//! A kernel called while the team is busy (from inside a task, or from a second user thread)
//! runs its tasks on the calling thread.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle helper polls for the next job before sleeping: longer than the serial work
/// between two kernels of a small network's training step.
const POLL_BUDGET: Duration = Duration::from_millis(2);

/// How long an idle helper polls with a pause instruction before it starts yielding its core to
/// other threads (a data loader) between polls.
const SPIN_BUDGET: Duration = Duration::from_micros(50);

/// Tasks are numbered in the low 16 bits of a claim word, so one job has at most this many
/// claimable units; larger task counts are grouped into units.
const MAX_UNITS: usize = (1 << 16) - 1;

/// The most threads [`set_num_threads`] accepts. Far more than any machine this runs on has
/// cores, so it only stops a mistyped count: every thread reserves a stack, and tens of
/// thousands of them exhaust the operating system's limits before doing any work.
pub const MAX_THREADS: usize = 1024;

static THREADS: OnceLock<usize> = OnceLock::new();
/// The team, and why it has fewer helpers than asked for if the operating system refused one.
static TEAM: OnceLock<(&'static Team, Option<String>)> = OnceLock::new();

/// Sets how many threads large kernels use, the calling thread included, from 1 to
/// [`MAX_THREADS`] (0 is an error, as in PyTorch's `set_num_threads`). Must be called before the
/// first parallel kernel; a later call with a different count returns an error naming the count
/// in force. The helper threads start here, so an operating system that refuses one is an error
/// too (kernels then run on the threads that did start).
///
/// ```
/// // Chosen once at start-up, e.g. from a `--threads` flag.
/// let _ = nabla_core::set_num_threads(2);
/// assert!(nabla_core::set_num_threads(0).is_err());
/// assert!(nabla_core::set_num_threads(100_000).is_err());
/// ```
pub fn set_num_threads(threads: usize) -> crate::Result<()> {
    if threads == 0 || threads > MAX_THREADS {
        return Err(crate::Error::invalid(
            "set_num_threads",
            format!("the thread count must be from 1 to {MAX_THREADS}, got {threads}"),
        ));
    }
    let set = *THREADS.get_or_init(|| threads);
    if set != threads {
        return Err(crate::Error::invalid(
            "set_num_threads",
            format!("kernels already run with {set} threads"),
        ));
    }
    match &TEAM.get_or_init(start_team).1 {
        Some(refused) => Err(crate::Error::invalid("set_num_threads", refused.clone())),
        None => Ok(()),
    }
}

/// Threads large kernels use: the count given to [`set_num_threads`], else all cores.
///
/// ```
/// assert!(nabla_core::num_threads() >= 1);
/// ```
pub fn num_threads() -> usize {
    *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Runs `task(i)` for every `i` in `0..tasks`, spread over the team; returns when all are done.
/// A panic in any task is raised again here once every task has finished.
pub(crate) fn for_each_task(tasks: usize, task: &(dyn Fn(usize) + Sync)) {
    let team = team();
    if tasks <= 1 || team.helpers == 0 || team.busy.swap(true, Ordering::Acquire) {
        (0..tasks).for_each(task);
        return;
    }
    let per_unit = tasks.div_ceil(MAX_UNITS);
    let units = tasks.div_ceil(per_unit);
    let unit = |u: usize| (u * per_unit..((u + 1) * per_unit).min(tasks)).for_each(task);
    let unit: Task<'_> = &unit;
    let panic = team.run(units, unit);
    team.busy.store(false, Ordering::Release);
    if let Some(payload) = panic {
        resume_unwind(payload);
    }
}

/// Runs `a` and `b` at once, one per thread of the team (one after the other when the team is
/// busy or has one thread), and returns both results. For two independent kernels each too
/// small to gain from being split: one join instead of two, and neither repeats the other's
/// packing (kernels called inside a task run whole on its thread, see [`team_is_busy`]). What
/// a task creates on a helper thread is counted as the caller's ([`crate::live_counts`]).
pub(crate) fn join<A: Send, B: Send>(
    a: impl FnOnce() -> A + Send,
    b: impl FnOnce() -> B + Send,
) -> (A, B) {
    /// Runs the closure in `job` once, keeping its result in `result`; returns what it left
    /// alive when it ran on another thread than `caller` (taken off that thread's counts).
    fn run_once<R>(
        job: &Mutex<Option<impl FnOnce() -> R>>,
        result: &Mutex<Option<R>>,
        caller: std::thread::ThreadId,
    ) -> Option<crate::LiveCounts> {
        let f = job.lock().unwrap_or_else(|p| p.into_inner()).take()?;
        let before = crate::live_counts();
        *result.lock().unwrap_or_else(|p| p.into_inner()) = Some(f());
        if std::thread::current().id() == caller {
            return None;
        }
        let after = crate::live_counts();
        let made = crate::LiveCounts {
            graph_nodes: after.graph_nodes - before.graph_nodes,
            storages: after.storages - before.storages,
        };
        crate::live::shift(crate::LiveCounts {
            graph_nodes: -made.graph_nodes,
            storages: -made.storages,
        });
        Some(made)
    }
    let caller = std::thread::current().id();
    let (a, b) = (Mutex::new(Some(a)), Mutex::new(Some(b)));
    let (ra, rb) = (Mutex::new(None), Mutex::new(None));
    let handed = Mutex::new(Vec::new());
    for_each_task(2, &|i| {
        let made = if i == 0 {
            run_once(&a, &ra, caller)
        } else {
            run_once(&b, &rb, caller)
        };
        handed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend(made);
    });
    for made in handed.into_inner().unwrap_or_else(|p| p.into_inner()) {
        crate::live::shift(made);
    }
    let ra = ra.into_inner().unwrap_or_else(|p| p.into_inner());
    let rb = rb.into_inner().unwrap_or_else(|p| p.into_inner());
    (ra.expect("task 0 ran"), rb.expect("task 1 ran"))
}

/// Whether a kernel started now would run all its tasks on the calling thread: the team is
/// running another job (this is a task of it, or a second user thread's kernel), or has no
/// helper. A kernel then need not cut its work for threads.
pub(crate) fn team_is_busy() -> bool {
    let team = team();
    team.helpers == 0 || team.busy.load(Ordering::Acquire)
}

/// Runs `f` on every item, spread over the kernel threads; returns when all are done. Items are
/// typically disjoint parts of buffers being updated in place.
///
/// ```
/// let mut data = vec![1.0f32; 100_000];
/// let parts: Vec<&mut [f32]> = data.chunks_mut(10_000).collect();
/// nabla_core::parallel::for_each(parts, |part| part.iter_mut().for_each(|v| *v *= 2.0));
/// assert!(data.iter().all(|&v| v == 2.0));
/// ```
pub fn for_each<W: Send>(items: impl IntoIterator<Item = W>, f: impl Fn(W) + Sync) {
    // One slot per task: each task takes its own item out, so no lock is needed.
    let mut slots: Vec<Option<W>> = items.into_iter().map(Some).collect();
    for_each_chunk_mut(&mut slots, 1, |_, slot| {
        if let Some(item) = slot[0].take() {
            f(item);
        }
    });
}

/// Splits `data` into consecutive chunks of `chunk` elements (the last may be shorter) and runs
/// `f(start, chunk)` on each, spread over the team; `start` is the chunk's first index.
pub(crate) fn for_each_chunk_mut<T: Send>(
    data: &mut [T],
    chunk: usize,
    f: impl Fn(usize, &mut [T]) + Sync,
) {
    let len = data.len();
    let base = SharedMut(data.as_mut_ptr());
    for_each_task(len.div_ceil(chunk), &|i| {
        let start = i * chunk;
        let end = (start + chunk).min(len);
        // SAFETY: tasks cover disjoint ranges of `data`, which the caller borrows mutably
        // until every task has returned.
        let part = unsafe { std::slice::from_raw_parts_mut(base.at(start), end - start) };
        f(start, part);
    });
}

/// A pointer into a buffer whose disjoint parts tasks write.
pub(crate) struct SharedMut<T>(pub(crate) *mut T);

impl<T> Clone for SharedMut<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for SharedMut<T> {}

// SAFETY: users hand each task a part of the buffer no other task touches.
unsafe impl<T: Send> Send for SharedMut<T> {}
unsafe impl<T: Send> Sync for SharedMut<T> {}

impl<T> SharedMut<T> {
    /// The pointer `offset` elements on.
    ///
    /// # Safety
    /// `offset` must stay inside the buffer.
    pub(crate) unsafe fn at(self, offset: usize) -> *mut T {
        // SAFETY: the caller keeps `offset` inside the buffer.
        unsafe { self.0.add(offset) }
    }
}

type Task<'a> = &'a (dyn Fn(usize) + Sync);
type Panic = Box<dyn std::any::Any + Send>;

/// The state the calling thread and the helpers share.
///
/// `claim` packs the job's generation (high 32 bits) and the range of its unclaimed units: the
/// first (16 bits) and one past the last (low 16 bits). A thread runs unit `u` of generation `g`
/// only after taking it off either end of that range; while any unit of `g` is unclaimed the
/// caller of `g` is still waiting, so the task it published is alive.
struct Team {
    helpers: usize,
    claim: AtomicU64,
    task: AtomicPtr<Task<'static>>,
    completed: AtomicUsize,
    panic: Mutex<Option<Panic>>,
    busy: AtomicBool,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

fn team() -> &'static Team {
    TEAM.get_or_init(start_team).0
}

/// Makes the team and starts its helpers; stops at the first helper the operating system
/// refuses, saying so. Units are claimed dynamically and the caller runs whatever no helper
/// takes, so a team with fewer helpers than planned computes the same results.
fn start_team() -> (&'static Team, Option<String>) {
    let team: &'static Team = Box::leak(Box::new(Team {
        helpers: num_threads() - 1,
        claim: AtomicU64::new(0),
        task: AtomicPtr::new(std::ptr::null_mut()),
        completed: AtomicUsize::new(0),
        panic: Mutex::new(None),
        busy: AtomicBool::new(false),
        sleepers: AtomicUsize::new(0),
        lock: Mutex::new(()),
        wake: Condvar::new(),
    }));
    for i in 0..team.helpers {
        let started = std::thread::Builder::new()
            .name(format!("nabla-kernel-{}", i + 1))
            .spawn(move || team.help());
        if let Err(e) = started {
            let refused = format!(
                "the operating system refused kernel thread {} of {} ({e}); kernels run with {} \
                 threads",
                i + 2,
                team.helpers + 1,
                i + 1
            );
            return (team, Some(refused));
        }
    }
    (team, None)
}

fn generation(claim: u64) -> u32 {
    (claim >> 32) as u32
}

/// The unclaimed units of a claim word: `first..end`.
fn unclaimed(claim: u64) -> (usize, usize) {
    (((claim >> 16) & 0xffff) as usize, (claim & 0xffff) as usize)
}

/// Which end of the unclaimed range a thread takes its units from.
#[derive(Clone, Copy)]
enum End {
    /// The calling thread.
    Front,
    /// The helpers.
    Back,
}

impl Team {
    /// Publishes `units` units of `task` as a new generation, runs units itself, and waits for
    /// the rest. Returns the payload of the first panic in any unit.
    fn run(&self, units: usize, task: Task<'_>) -> Option<Panic> {
        let generation = generation(self.claim.load(Ordering::Relaxed)).wrapping_add(1);
        self.completed.store(0, Ordering::Relaxed);
        let slot: *const Task<'_> = &task;
        self.task
            .store(slot as *mut Task<'static>, Ordering::Relaxed);
        let claim = (u64::from(generation) << 32) | units as u64;
        self.claim.store(claim, Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
            self.wake.notify_all();
        }
        self.work(generation, End::Front);
        let start = Instant::now();
        while self.completed.load(Ordering::Acquire) < units {
            pause(start.elapsed());
        }
        self.panic.lock().unwrap_or_else(|p| p.into_inner()).take()
    }

    /// Claims units of generation `generation` from one end of the unclaimed range and runs
    /// them until none is left.
    fn work(&self, generation_to_run: u32, end: End) {
        loop {
            let claim = self.claim.load(Ordering::Acquire);
            let (first, last_end) = unclaimed(claim);
            if generation(claim) != generation_to_run || first >= last_end {
                return;
            }
            let (next, claimed) = match end {
                End::Front => (first, claim + (1 << 16)),
                End::Back => (last_end - 1, claim - 1),
            };
            let task = self.task.load(Ordering::Acquire);
            if self
                .claim
                .compare_exchange_weak(claim, claimed, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
            {
                // SAFETY: the claim succeeded, so unit `next` of this generation was unclaimed
                // and its caller is still waiting inside `run`, where `task` points to.
                let task = unsafe { *task };
                if let Err(payload) = catch_unwind(AssertUnwindSafe(|| task(next))) {
                    let mut first = self.panic.lock().unwrap_or_else(|p| p.into_inner());
                    first.get_or_insert(payload);
                }
                self.completed.fetch_add(1, Ordering::Release);
            }
        }
    }

    /// A helper's life: wait for a generation it has not seen, help with it, repeat.
    fn help(&self) {
        let mut seen = generation(self.claim.load(Ordering::Acquire));
        loop {
            seen = self.wait_for_job(seen);
            // A panic inside a task is caught in `work`; a helper never unwinds.
            self.work(seen, End::Back);
        }
    }

    /// Polls for a generation other than `seen` for [`POLL_BUDGET`], then sleeps until woken.
    fn wait_for_job(&self, seen: u32) -> u32 {
        let start = Instant::now();
        loop {
            let current = generation(self.claim.load(Ordering::Acquire));
            if current != seen {
                return current;
            }
            let waited = start.elapsed();
            if waited > POLL_BUDGET {
                break;
            }
            pause(waited);
        }
        let mut guard = self.lock.lock().unwrap_or_else(|p| p.into_inner());
        self.sleepers.fetch_add(1, Ordering::SeqCst);
        loop {
            let current = generation(self.claim.load(Ordering::SeqCst));
            if current != seen {
                self.sleepers.fetch_sub(1, Ordering::SeqCst);
                return current;
            }
            guard = self.wake.wait(guard).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// One wait between polls, after waiting `waited` so far: a pause instruction at first, then a
/// yield of the core.
fn pause(waited: Duration) {
    if waited < SPIN_BUDGET {
        std::hint::spin_loop();
    } else {
        std::thread::yield_now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_task_runs_exactly_once() {
        for tasks in [0, 1, 2, 3, 17, 1000, MAX_UNITS + 5, 3 * MAX_UNITS] {
            let counts: Vec<AtomicUsize> = (0..tasks).map(|_| AtomicUsize::new(0)).collect();
            for_each_task(tasks, &|i| {
                counts[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(
                counts.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                "{tasks} tasks"
            );
        }
    }

    #[test]
    fn the_caller_runs_a_prefix_of_the_tasks_and_the_helpers_the_rest() {
        let caller = std::thread::current().id();
        for tasks in [2, 3, 64, 1000] {
            let on_caller: Vec<AtomicBool> = (0..tasks).map(|_| AtomicBool::new(false)).collect();
            for_each_task(tasks, &|i| {
                // Long enough tasks that the helpers take part.
                std::thread::sleep(Duration::from_micros(20));
                let here = std::thread::current().id() == caller;
                on_caller[i].store(here, Ordering::Relaxed);
            });
            let flags: Vec<bool> = on_caller
                .iter()
                .map(|f| f.load(Ordering::Relaxed))
                .collect();
            let prefix = flags.iter().take_while(|&&here| here).count();
            assert!(
                flags[prefix..].iter().all(|&here| !here),
                "{tasks} tasks: caller ran {flags:?}"
            );
        }
    }

    #[test]
    fn chunks_cover_the_slice_with_their_start_indices() {
        let mut data = vec![0usize; 10_001];
        for_each_chunk_mut(&mut data, 64, |start, part| {
            for (j, v) in part.iter_mut().enumerate() {
                *v = start + j;
            }
        });
        assert!(data.iter().enumerate().all(|(i, &v)| i == v));
    }

    #[test]
    fn a_kernel_inside_a_task_runs_on_the_calling_thread() {
        let total = AtomicUsize::new(0);
        for_each_task(8, &|_| {
            for_each_task(8, &|j| {
                total.fetch_add(j, Ordering::Relaxed);
            });
        });
        assert_eq!(total.load(Ordering::Relaxed), 8 * 28);
    }

    #[test]
    fn a_panicking_task_is_raised_in_the_caller_and_the_team_keeps_working() {
        let outcome = catch_unwind(|| {
            for_each_task(64, &|i| {
                if i == 37 {
                    panic!("task 37 failed");
                }
            })
        });
        let payload = outcome.expect_err("the panic reaches the caller");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"task 37 failed"));
        let done = AtomicUsize::new(0);
        for_each_task(64, &|_| {
            done.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(done.load(Ordering::Relaxed), 64);
    }

    #[test]
    fn many_threads_may_call_at_once() {
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..200 {
                        let sum = AtomicUsize::new(0);
                        for_each_task(16, &|i| {
                            sum.fetch_add(i, Ordering::Relaxed);
                        });
                        assert_eq!(sum.load(Ordering::Relaxed), 120);
                    }
                });
            }
        });
    }
}
