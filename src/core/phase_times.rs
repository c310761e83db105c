//! Wall time per training phase, stored in `training.seconds` so a user (and a benchmark) sees
//! where a slow train() spends its time without attaching a profiler.

use serde_json::{Map, Value};
use std::time::Instant;

/// Laps of a stopwatch, each named after the phase that just ended.
pub struct PhaseTimes {
    last: Instant,
    laps: Vec<(&'static str, f64)>,
}

impl Default for PhaseTimes {
    fn default() -> Self {
        PhaseTimes::start()
    }
}

impl PhaseTimes {
    pub fn start() -> PhaseTimes {
        PhaseTimes { last: Instant::now(), laps: Vec::new() }
    }

    /// Ends `phase` now (time since the previous lap or the start); a repeated name adds up.
    pub fn lap(&mut self, phase: &'static str) {
        let now = Instant::now();
        let secs = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        match self.laps.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, s)) => *s += secs,
            None => self.laps.push((phase, secs)),
        }
    }

    /// Restarts the stopwatch without recording a lap: for time another clock has recorded.
    pub fn restart(&mut self) {
        self.last = Instant::now();
    }

    /// `{"phase": seconds, ...}`, rounded to milliseconds.
    pub fn to_json(&self) -> Value {
        let map: Map<String, Value> =
            self.laps.iter().map(|(p, s)| (p.to_string(), Value::from((s * 1000.0).round() / 1000.0))).collect();
        Value::Object(map)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_phase_gets_its_own_time_and_repeats_add_up() {
        let mut t = PhaseTimes::start();
        t.lap("read");
        std::thread::sleep(std::time::Duration::from_millis(20));
        t.lap("fit");
        t.lap("read");
        std::thread::sleep(std::time::Duration::from_millis(20));
        t.restart();
        t.lap("audit");
        let json = t.to_json();
        assert_eq!(json.as_object().unwrap().len(), 3, "{json}");
        assert!(json["audit"].as_f64().unwrap() < 0.019, "restart skips the sleep: {json}");
        assert!(json["fit"].as_f64().unwrap() >= 0.019, "{json}");
        assert!(json["read"].as_f64().unwrap() < 0.019, "{json}");
    }
}
