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
        self.lap_at(phase, Instant::now());
    }

    /// Ends `phase` at `now`: the clock is a parameter so that the tests need no sleeping.
    fn lap_at(&mut self, phase: &'static str, now: Instant) {
        let secs = now.duration_since(self.last).as_secs_f64();
        self.last = now;
        match self.laps.iter_mut().find(|(p, _)| *p == phase) {
            Some((_, s)) => *s += secs,
            None => self.laps.push((phase, secs)),
        }
    }

    /// Restarts the stopwatch without recording a lap: for time another clock has recorded.
    pub fn restart(&mut self) {
        self.restart_at(Instant::now());
    }

    fn restart_at(&mut self, now: Instant) {
        self.last = now;
    }

    /// Seconds per phase, rounded to milliseconds.
    pub fn seconds(&self) -> std::collections::BTreeMap<String, f64> {
        self.laps.iter().map(|(p, s)| (p.to_string(), (s * 1000.0).round() / 1000.0)).collect()
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
        let t0 = Instant::now();
        let at = |ms: u64| t0 + std::time::Duration::from_millis(ms);
        let mut t = PhaseTimes { last: t0, laps: Vec::new() };
        t.lap_at("read", at(5));
        t.lap_at("fit", at(25));
        t.lap_at("read", at(27));
        t.restart_at(at(100)); // 73 ms another clock recorded
        t.lap_at("audit", at(104));
        assert_eq!(t.to_json(), serde_json::json!({"read": 0.007, "fit": 0.02, "audit": 0.004}));
    }

    #[test]
    fn laps_on_the_real_clock_are_recorded() {
        let mut t = PhaseTimes::start();
        t.lap("read");
        t.restart();
        t.lap("fit");
        let json = t.to_json();
        assert!(json["read"].as_f64().unwrap() >= 0.0 && json["fit"].as_f64().unwrap() >= 0.0, "{json}");
    }
}
