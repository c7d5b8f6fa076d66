//! The auto-close engine.
//!
//! The truth is the conversation: its armed timer (`auto_close`) and its
//! `timer_generation`. A **sweep** (scheduled) pages the store's due timers and
//! sends one [`TimerMessage`] per timer to a [`TimerQueue`]; a **worker** takes
//! each message and [`fire`]s it: it re-reads the conversation and lets the
//! domain decide, so a late, duplicate or superseded message changes nothing.
//!
//! The Lambda functions, the dev server and the tests all call the same
//! functions here: [`sweep`], [`worker`] (which calls [`fire`]), and, for the
//! dev server, [`run_local_tick`].

mod fire;
mod local;
mod message;
pub mod queue;
mod sweep;
mod worker;

pub use fire::{FireError, FireOutcome, fire};
pub use local::{LocalTickError, LocalTickLimits, LocalTickReport, drain_once, run_local_tick};
pub use message::{MessageError, TimerMessage};
pub use queue::in_process::InProcessQueue;
pub use queue::sqs::SqsTimerQueue;
pub use queue::{MAX_BATCH, QueueError, TimerQueue, TimerReceiver};
pub use sweep::{SweepError, SweepLimits, SweepReport, sweep};
pub use worker::{WorkerReport, worker, worker_with_report};
