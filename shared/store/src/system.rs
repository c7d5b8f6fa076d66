//! Production clock and id generator (the domain takes both as values).

use inbox_domain::Timestamp;
use inbox_domain::ids::{IdGen, IdKind};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Where `now` comes from.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp::from_millis(ms)
    }
}

/// A clock tests set by hand.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<Mutex<Timestamp>>);

impl ManualClock {
    /// A clock at `t`.
    pub fn new(t: Timestamp) -> Self {
        ManualClock(Arc::new(Mutex::new(t)))
    }
    /// Moves the clock to `t`.
    pub fn set(&self, t: Timestamp) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }
    /// Moves the clock forward.
    pub fn advance_ms(&self, ms: i64) {
        if let Ok(mut g) = self.0.lock() {
            *g = g.plus_millis(ms);
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        self.0.lock().map(|g| *g).unwrap_or_default()
    }
}

/// Time-sortable ids: prefix plus a monotonic ULID (lower-case).
#[derive(Clone, Default)]
pub struct UlidIds {
    generator: Arc<Mutex<ulid::Generator>>,
}

impl IdGen for UlidIds {
    fn new_id(&mut self, kind: IdKind) -> String {
        let id = match self.generator.lock() {
            Ok(mut g) => g.generate().unwrap_or_else(|_| ulid::Ulid::new()),
            Err(_) => ulid::Ulid::new(),
        };
        format!("{}{}", kind.prefix(), id.to_string().to_lowercase())
    }
}
