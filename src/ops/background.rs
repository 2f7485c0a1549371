//! Work left running that must end before the process does: the copy of the journal's
//! head in the cluster, and the console's operator (which gives the lease up and sees its
//! webhook posts out when the console quits). A rollback that exits at once would
//! otherwise take its last word with it.

use std::sync::Mutex;
use std::time::Duration;

use tokio::task::JoinHandle;

static TASKS: Mutex<Vec<JoinHandle<()>>> = Mutex::new(Vec::new());

/// Wait for `task` before the process exits ([`finish`]).
pub fn keep(task: JoinHandle<()>) {
    if let Ok(mut tasks) = TASKS.lock() {
        tasks.retain(|t| !t.is_finished());
        tasks.push(task);
    }
}

/// Wait for the tasks kept, `within` at most in all; says how many were left unfinished.
/// Each task ends by itself once what it waits on is dropped (the journal), so the
/// deadline only matters when a server does not answer.
pub async fn finish(within: Duration) -> usize {
    let tasks = match TASKS.lock() {
        Ok(mut tasks) => std::mem::take(&mut *tasks),
        Err(_) => return 0,
    };
    let deadline = tokio::time::Instant::now() + within;
    let mut left = 0;
    for task in tasks {
        if tokio::time::timeout_at(deadline, task).await.is_err() {
            left += 1;
        }
    }
    left
}
