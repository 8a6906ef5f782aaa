//! What a run saw: a latency histogram per step, answers counted by status and problem code,
//! and scenario counters; and the report printed (and written as JSON) at the end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Latencies are recorded in microseconds, from 1 µs to 10 minutes, 3 significant digits.
const HIGHEST_MICROS: u64 = 600_000_000;

/// How an answer counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Class {
    /// 2xx.
    Ok,
    /// A 4xx the scenario expects (e.g. `OUT_OF_STOCK` in hot-product).
    Expected,
    /// A 4xx the scenario did not expect.
    Unexpected,
    /// A 5xx.
    Server,
    /// No HTTP answer at all (connect error, timeout, reset).
    Transport,
}

impl Class {
    fn label(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Expected => "expected",
            Self::Unexpected => "unexpected",
            Self::Server => "5xx",
            Self::Transport => "transport",
        }
    }
}

#[derive(Debug)]
struct Step {
    name: &'static str,
    latency: Histogram<u64>,
}

/// Everything recorded during the measured phase.
#[derive(Debug)]
pub struct Recorder {
    steps: Vec<Step>,
    /// `"409 OUT_OF_STOCK"`, `"transport: timeout"`, ... with how it counted.
    answers: BTreeMap<String, (Class, u64)>,
    /// Scenario counters (`purchases`, `declined`, `with-coupon`, ...), in insertion order.
    counters: Vec<(&'static str, u64)>,
    requests: u64,
    by_class: BTreeMap<Class, u64>,
}

impl Recorder {
    /// A recorder whose report lists `steps` in this order (others are added when first seen).
    pub fn new(steps: &[&'static str]) -> anyhow::Result<Self> {
        let mut recorder = Self {
            steps: Vec::new(),
            answers: BTreeMap::new(),
            counters: Vec::new(),
            requests: 0,
            by_class: BTreeMap::new(),
        };
        for step in steps {
            recorder.step(step)?;
        }
        Ok(recorder)
    }

    fn step(&mut self, name: &'static str) -> anyhow::Result<&mut Step> {
        let index = if let Some(index) = self.steps.iter().position(|s| s.name == name) {
            index
        } else {
            self.steps.push(Step {
                name,
                latency: Histogram::new_with_bounds(1, HIGHEST_MICROS, 3)?,
            });
            self.steps.len() - 1
        };
        self.steps
            .get_mut(index)
            .ok_or_else(|| anyhow::anyhow!("step {name} vanished"))
    }

    /// Records one HTTP request: its latency under `step` (when it got an answer) and how its
    /// answer counted under `key`.
    pub fn request(
        &mut self,
        step: &'static str,
        latency: Option<Duration>,
        key: &str,
        class: Class,
    ) {
        self.requests += 1;
        if let Some(latency) = latency {
            self.latency(step, latency);
        }
        *self.by_class.entry(class).or_default() += 1;
        if class != Class::Ok {
            self.answers.entry(key.to_owned()).or_insert((class, 0)).1 += 1;
        }
    }

    /// Records a latency that is not a single request (e.g. a whole purchase).
    pub fn latency(&mut self, step: &'static str, latency: Duration) {
        let micros = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        if let Ok(step) = self.step(step) {
            step.latency
                .saturating_record(micros.clamp(1, HIGHEST_MICROS));
        }
    }

    /// Records a failed client-side check (not an HTTP answer), e.g. a list shorter than seeded.
    pub fn check_failed(&mut self, key: &str) {
        *self.by_class.entry(Class::Unexpected).or_default() += 1;
        self.answers
            .entry(format!("check: {key}"))
            .or_insert((Class::Unexpected, 0))
            .1 += 1;
    }

    pub fn count(&mut self, counter: &'static str, by: u64) {
        match self.counters.iter_mut().find(|(name, _)| *name == counter) {
            Some((_, value)) => *value += by,
            None => self.counters.push((counter, by)),
        }
    }

    pub fn counter(&self, counter: &str) -> u64 {
        self.counters
            .iter()
            .find(|(name, _)| *name == counter)
            .map_or(0, |(_, v)| *v)
    }

    pub fn requests(&self) -> u64 {
        self.requests
    }

    pub fn class_count(&self, class: Class) -> u64 {
        self.by_class.get(&class).copied().unwrap_or(0)
    }

    /// The human report.
    pub fn report(&self, header: &str, elapsed: Duration, headline: (&str, u64)) -> String {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let mut out = String::new();
        let _ = writeln!(out, "{header}");
        let _ = writeln!(
            out,
            "elapsed {:.1} s, {} requests, {:.1} requests/s",
            elapsed.as_secs_f64(),
            self.requests,
            rate(self.requests, secs)
        );
        let _ = writeln!(
            out,
            "{}: {} ({:.1}/s)",
            headline.0,
            headline.1,
            rate(headline.1, secs)
        );
        let classes: Vec<String> = [
            Class::Ok,
            Class::Expected,
            Class::Unexpected,
            Class::Server,
            Class::Transport,
        ]
        .into_iter()
        .map(|c| format!("{} {}", c.label(), self.class_count(c)))
        .collect();
        let _ = writeln!(out, "answers: {}", classes.join(", "));
        let _ = writeln!(
            out,
            "\n{:<16} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
            "step", "count", "per s", "p50 ms", "p90 ms", "p99 ms", "max ms", "mean ms"
        );
        for step in &self.steps {
            let h = &step.latency;
            let _ = writeln!(
                out,
                "{:<16} {:>8} {:>9.1} {:>9} {:>9} {:>9} {:>9} {:>9}",
                step.name,
                h.len(),
                rate(h.len(), secs),
                millis(h.value_at_quantile(0.50)),
                millis(h.value_at_quantile(0.90)),
                millis(h.value_at_quantile(0.99)),
                millis(h.max()),
                millis_f(h.mean()),
            );
        }
        if !self.counters.is_empty() {
            let _ = writeln!(out);
            for (name, value) in &self.counters {
                let _ = writeln!(out, "{name:<24} {value:>8}");
            }
        }
        if !self.answers.is_empty() {
            let _ = writeln!(out, "\nanswers other than 2xx, by status and code:");
            for (key, (class, n)) in &self.answers {
                let _ = writeln!(out, "  {key:<40} {n:>8}  ({})", class.label());
            }
        }
        out
    }

    /// The machine-readable summary.
    pub fn summary(
        &self,
        scenario: &str,
        concurrency: u32,
        elapsed: Duration,
        headline: (&str, u64),
    ) -> Value {
        let secs = elapsed.as_secs_f64().max(1e-9);
        let steps: serde_json::Map<String, Value> = self
            .steps
            .iter()
            .map(|step| {
                let h = &step.latency;
                (
                    step.name.to_owned(),
                    json!({
                        "count": h.len(),
                        "perSec": round2(rate(h.len(), secs)),
                        "p50Ms": micros_to_ms(h.value_at_quantile(0.50)),
                        "p90Ms": micros_to_ms(h.value_at_quantile(0.90)),
                        "p99Ms": micros_to_ms(h.value_at_quantile(0.99)),
                        "maxMs": micros_to_ms(h.max()),
                        "meanMs": round2(h.mean() / 1000.0),
                    }),
                )
            })
            .collect();
        let answers: serde_json::Map<String, Value> = self
            .answers
            .iter()
            .map(|(key, (class, n))| (key.clone(), json!({"class": class.label(), "count": n})))
            .collect();
        let counters: serde_json::Map<String, Value> = self
            .counters
            .iter()
            .map(|(name, value)| ((*name).to_owned(), json!(value)))
            .collect();
        json!({
            "scenario": scenario,
            "concurrency": concurrency,
            "elapsedSecs": round2(secs),
            "requests": self.requests,
            "requestsPerSec": round2(rate(self.requests, secs)),
            "completedName": headline.0,
            "completed": headline.1,
            "completedPerSec": round2(rate(headline.1, secs)),
            "ok": self.class_count(Class::Ok),
            "expected": self.class_count(Class::Expected),
            "unexpected": self.class_count(Class::Unexpected),
            "serverErrors": self.class_count(Class::Server),
            "transportErrors": self.class_count(Class::Transport),
            "steps": steps,
            "counters": counters,
            "answers": answers,
        })
    }
}

#[allow(clippy::cast_precision_loss)]
fn rate(count: u64, secs: f64) -> f64 {
    count as f64 / secs
}

fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

#[allow(clippy::cast_precision_loss)]
fn micros_to_ms(micros: u64) -> f64 {
    round2(micros as f64 / 1000.0)
}

/// Microseconds as milliseconds with two decimals: `1234` → `"1.23"`.
pub fn millis(micros: u64) -> String {
    let hundredths = (micros + 5) / 10;
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn millis_f(micros: f64) -> String {
    format!("{:.2}", micros / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn millis_rounds_to_hundredths() {
        assert_eq!(millis(0), "0.00");
        assert_eq!(millis(4), "0.00");
        assert_eq!(millis(5), "0.01");
        assert_eq!(millis(1234), "1.23");
        assert_eq!(millis(1235), "1.24");
        assert_eq!(millis(25_000), "25.00");
        assert_eq!(millis(1_999_996), "2000.00");
    }

    /// HDR histograms keep 3 significant digits: equal within 0.1 %.
    fn near(value: &Value, want: f64) {
        let got = value.as_f64().unwrap_or(f64::NAN);
        assert!((got - want).abs() <= want * 0.001, "{got} is not {want}");
    }

    #[test]
    fn percentiles_and_counts() -> anyhow::Result<()> {
        let mut rec = Recorder::new(&["order"])?;
        for ms in 1..=100_u64 {
            rec.request("order", Some(Duration::from_millis(ms)), "201", Class::Ok);
        }
        rec.request(
            "order",
            Some(Duration::from_millis(3)),
            "409 OUT_OF_STOCK",
            Class::Expected,
        );
        rec.request("order", None, "transport: timeout", Class::Transport);
        rec.count("orders", 100);
        let summary = rec.summary("place-order", 16, Duration::from_secs(10), ("orders", 100));
        assert_eq!(summary["requests"], 102);
        assert_eq!(summary["completedPerSec"], 10.0);
        assert_eq!(summary["steps"]["order"]["count"], 101);
        near(&summary["steps"]["order"]["p50Ms"], 50.0);
        near(&summary["steps"]["order"]["p99Ms"], 99.0);
        near(&summary["steps"]["order"]["maxMs"], 100.0);
        assert_eq!(summary["transportErrors"], 1);
        assert_eq!(summary["answers"]["409 OUT_OF_STOCK"]["class"], "expected");
        let report = rec.report("place-order", Duration::from_secs(10), ("orders", 100));
        assert!(report.contains("orders: 100 (10.0/s)"), "{report}");
        assert!(report.contains("409 OUT_OF_STOCK"), "{report}");
        Ok(())
    }
}
