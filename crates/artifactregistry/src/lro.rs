//! Long-running operations: polled with exponential backoff until done or until
//! a deadline, on tokio's clock (so tests can pause it).

use std::future::Future;
use std::time::Duration;

use gar_core::{Error, ErrorKind};

use crate::model::Operation;

/// How a long-running operation is polled: the first wait, the factor each
/// next wait grows by, the longest wait, and the longest total time.
///
/// ```
/// use std::time::Duration;
/// use gar_artifactregistry::PollingPolicy;
///
/// let quick = PollingPolicy::default()
///     .with_initial_delay(Duration::from_millis(50))
///     .with_deadline(Some(Duration::from_secs(30)));
/// assert_eq!(quick.delays().take(3).collect::<Vec<_>>(),
///            [50, 100, 200].map(Duration::from_millis));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PollingPolicy {
    /// The wait before the first poll (default 500 ms).
    pub initial_delay: Duration,
    /// How much each wait grows (default 2).
    pub multiplier: f64,
    /// The longest wait between polls (default 10 s).
    pub max_delay: Duration,
    /// The longest time to wait in total; `None` waits forever (default 10 min).
    pub deadline: Option<Duration>,
}

impl Default for PollingPolicy {
    fn default() -> Self {
        Self {
            initial_delay: Duration::from_millis(500),
            multiplier: 2.0,
            max_delay: Duration::from_secs(10),
            deadline: Some(Duration::from_secs(600)),
        }
    }
}

impl PollingPolicy {
    /// The same policy with another first wait.
    #[must_use]
    pub fn with_initial_delay(mut self, d: Duration) -> Self {
        self.initial_delay = d;
        self
    }

    /// The same policy with another growth factor (at least 1).
    #[must_use]
    pub fn with_multiplier(mut self, m: f64) -> Self {
        self.multiplier = m;
        self
    }

    /// The same policy with another longest wait.
    #[must_use]
    pub fn with_max_delay(mut self, d: Duration) -> Self {
        self.max_delay = d;
        self
    }

    /// The same policy with another deadline.
    #[must_use]
    pub fn with_deadline(mut self, d: Option<Duration>) -> Self {
        self.deadline = d;
        self
    }

    /// The waits between polls, in order (endless).
    pub fn delays(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max_delay;
        let m = if self.multiplier.is_finite() && self.multiplier >= 1.0 {
            self.multiplier
        } else {
            1.0
        };
        std::iter::successors(Some(self.initial_delay.min(max)), move |d| {
            Some(d.mul_f64(m).min(max))
        })
    }
}

/// Polls with `fetch` (given the operation's name) until `first` is done, waiting
/// per `policy`; fails with `Timeout` when the deadline would pass.
pub(crate) async fn poll_until_done<F, Fut>(
    first: Operation,
    policy: &PollingPolicy,
    mut fetch: F,
) -> Result<Operation, Error>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<Operation, Error>>,
{
    let started = tokio::time::Instant::now();
    let mut op = first;
    let mut delays = policy.delays();
    let mut polls = 0u32;
    while !op.done {
        let delay = delays.next().unwrap_or(policy.max_delay);
        if let Some(deadline) = policy.deadline
            && started.elapsed() + delay > deadline
        {
            return Err(Error::new(
                ErrorKind::Timeout,
                format!(
                    "the operation {} was not done after {polls} polls in {:?} (deadline {deadline:?}); \
                     it may still finish: poll it again with get_operation",
                    op.name,
                    started.elapsed()
                ),
            ));
        }
        tokio::time::sleep(delay).await;
        op = fetch(op.name.clone()).await?;
        polls += 1;
    }
    Ok(op)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn op(done: bool) -> Operation {
        Operation {
            name: "projects/p/locations/l/operations/1".into(),
            done,
            ..Operation::default()
        }
    }

    #[test]
    fn delays_grow_to_the_cap() {
        let p = PollingPolicy::default()
            .with_initial_delay(Duration::from_secs(1))
            .with_multiplier(3.0)
            .with_max_delay(Duration::from_secs(10));
        let d: Vec<u64> = p.delays().take(5).map(|d| d.as_secs()).collect();
        assert_eq!(d, [1, 3, 9, 10, 10]);
        let flat = p.with_multiplier(0.5);
        assert_eq!(flat.delays().nth(3), Some(Duration::from_secs(1)));
    }

    #[tokio::test(start_paused = true)]
    async fn polls_with_backoff_on_the_paused_clock() {
        let times = Arc::new(Mutex::new(Vec::new()));
        let seen = times.clone();
        let start = tokio::time::Instant::now();
        let policy = PollingPolicy::default();
        let mut remaining = 4;
        let done = poll_until_done(op(false), &policy, |_| {
            seen.lock().unwrap().push(start.elapsed());
            remaining -= 1;
            let finished = remaining == 0;
            async move { Ok(op(finished)) }
        })
        .await
        .unwrap();
        assert!(done.done);
        assert_eq!(
            *times.lock().unwrap(),
            [500, 1500, 3500, 7500].map(Duration::from_millis)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn gives_up_at_the_deadline() {
        let policy = PollingPolicy::default().with_deadline(Some(Duration::from_secs(60)));
        let start = tokio::time::Instant::now();
        let err = poll_until_done(op(false), &policy, |_| async { Ok(op(false)) })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Timeout);
        assert!(start.elapsed() <= Duration::from_secs(60));
        assert!(
            start.elapsed() >= Duration::from_secs(50),
            "{:?}",
            start.elapsed()
        );
        let failing = poll_until_done(op(false), &policy, |_| async {
            Err(Error::new(ErrorKind::ServiceUnavailable, "down"))
        })
        .await
        .unwrap_err();
        assert_eq!(failing.kind(), ErrorKind::ServiceUnavailable);
    }
}
