//! The seed scenario of "Panic! At The Async Runtime Shutdown": a producer
//! sends numbers to a worker and `unwrap`s every reply. Neither task watches
//! for cancellation. Shared by the stress command and the test suite.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

/// Panics seen in the whole process since [`install_panic_counter`].
pub static PANICS: AtomicU64 = AtomicU64::new(0);

/// Counts every panic (and keeps the default hook quiet).
pub fn install_panic_counter() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|_| {
            PANICS.fetch_add(1, Ordering::SeqCst);
        }));
    });
}

type Request = (u64, oneshot::Sender<u64>);

/// Sends numbers and unwraps each reply.
pub async fn producer(tx: mpsc::Sender<Request>, progress: Arc<AtomicU64>) {
    let mut n = 0u64;
    loop {
        let (reply_tx, reply_rx) = oneshot::channel();
        tx.send((n, reply_tx)).await.unwrap();
        let doubled = reply_rx.await.unwrap();
        assert_eq!(doubled, n * 2);
        n += 1;
        progress.store(n, Ordering::Relaxed);
    }
}

/// Doubles numbers and unwraps each send of a reply.
pub async fn worker(mut rx: mpsc::Receiver<Request>) {
    while let Some((n, reply)) = rx.recv().await {
        reply.send(n * 2).unwrap();
    }
}

/// A connected producer/worker pair and its progress counter.
pub fn pair() -> (
    impl std::future::Future<Output = ()> + Send + 'static,
    impl std::future::Future<Output = ()> + Send + 'static,
    Arc<AtomicU64>,
) {
    let (tx, rx) = mpsc::channel(1);
    let progress = Arc::new(AtomicU64::new(0));
    (producer(tx, progress.clone()), worker(rx), progress)
}

/// Waits until the pair has exchanged `n` messages (bounded).
pub fn wait_progress(progress: &AtomicU64, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while progress.load(Ordering::Relaxed) < n && Instant::now() < deadline {
        std::thread::yield_now();
    }
}

/// One cycle with a plain runtime, dropped while the pair runs.
#[allow(dead_code)] // used by the stress example only
pub fn plain_cycle() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (producer, worker, progress) = pair();
    runtime.spawn(producer);
    runtime.spawn(worker);
    wait_progress(&progress, 20);
    drop(runtime);
}
