//! The run of a scenario: senders at their rate and window, receivers
//! counting deliveries and their latency, whatever the protocol.

use super::conn::{Conn, Event, Stamp};
use super::report::{Latency, Report};
use hdrhistogram::Histogram;
use indicatif::{ProgressBar, ProgressStyle};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Default)]
pub struct Counters {
    sent: AtomicU64,
    acked: AtomicU64,
    errors: AtomicU64,
    delivered: AtomicU64,
    out_of_order: AtomicU64,
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

fn histogram() -> Histogram<u64> {
    Histogram::<u64>::new_with_bounds(1, 600_000_000, 3)
        .unwrap_or_else(|_| Histogram::new(3).unwrap_or_else(|_| unreachable!()))
}

/// Receives pushes until `stop`, recording send-to-delivery latency. A
/// user's own messages (OpenIM's echo to the sender) are read and skipped.
async fn receive(
    client: Arc<Conn>,
    counters: Arc<Counters>,
    stop: Arc<AtomicBool>,
) -> Histogram<u64> {
    let mut hist = histogram();
    let mut last_seq: Option<(String, i64)> = None;
    loop {
        match client.next_push(Duration::from_millis(100)).await {
            Some(Event::Delivery(m)) => {
                if m.own {
                    continue;
                }
                let Some(t) = m.sent_at else {
                    continue;
                };
                let latency = now_micros().saturating_sub(t).max(1);
                let _ = hist.record(latency);
                counters.delivered.fetch_add(1, Ordering::Relaxed);
                if let Some((conv, seq)) = &last_seq {
                    if *conv == m.conversation_id && m.seq != seq + 1 {
                        counters.out_of_order.fetch_add(1, Ordering::Relaxed);
                    }
                }
                last_seq = Some((m.conversation_id, m.seq));
            }
            Some(Event::Closed) => return hist,
            Some(Event::Other) => {}
            None => {
                if stop.load(Ordering::Relaxed) {
                    return hist;
                }
            }
        }
    }
}

/// One sending connection.
pub struct Sender {
    pub client: Arc<Conn>,
    /// A user, or a group when `group`.
    pub to: String,
    pub group: bool,
    /// Messages per second; as fast as acks come when None.
    pub rate: Option<f64>,
    /// Sends awaiting their ack at once, at most.
    pub window: usize,
}

/// Sends until `deadline` as `sender` says.
async fn send_loop(sender: Sender, deadline: Instant, counters: Arc<Counters>) {
    let Sender {
        client,
        to,
        group,
        rate,
        window,
    } = sender;
    let to: Arc<str> = to.into();
    let mut ticker = rate.map(|r| {
        let mut t = tokio::time::interval(Duration::from_secs_f64(1.0 / r.max(0.001)));
        t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        t
    });
    let window = window.max(1);
    let permits = Arc::new(tokio::sync::Semaphore::new(window));
    let mut n: u64 = 0;
    while Instant::now() < deadline {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        if Instant::now() >= deadline {
            break;
        }
        n += 1;
        let client_msg_id = format!("{}-{n}", now_micros());
        let stamp = Stamp { n, t: now_micros() };
        counters.sent.fetch_add(1, Ordering::Relaxed);
        let (client, counters, to) = (client.clone(), counters.clone(), to.clone());
        tokio::spawn(async move {
            match client.send_text(&to, group, client_msg_id, stamp).await {
                Ok(()) => counters.acked.fetch_add(1, Ordering::Relaxed),
                Err(_) => counters.errors.fetch_add(1, Ordering::Relaxed),
            };
            drop(permit);
        });
    }
    // Wait for the sends still awaiting their ack.
    let _ = permits
        .acquire_many(u32::try_from(window).unwrap_or(u32::MAX))
        .await;
}

/// Runs senders and receivers, showing progress, then waits for the last
/// deliveries (`per_message` deliveries per acked message, 10 s at most).
pub async fn drive(
    duration: Duration,
    senders: Vec<Sender>,
    receivers: Vec<Arc<Conn>>,
    per_message: u64,
    counters: Arc<Counters>,
) -> (f64, Histogram<u64>) {
    let stop = Arc::new(AtomicBool::new(false));
    // A sender the server echoes its own messages to reads them too, or
    // they would pile up in its client's queue.
    let echoed = senders
        .iter()
        .filter(|s| s.client.echoes_own_sends())
        .map(|s| s.client.clone());
    let receiving: Vec<_> = receivers
        .into_iter()
        .chain(echoed)
        .map(|c| tokio::spawn(receive(c, counters.clone(), stop.clone())))
        .collect();
    let pb = ProgressBar::new(duration.as_secs());
    pb.set_style(
        ProgressStyle::with_template("{bar:30} {pos}/{len}s {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let deadline = started + duration;
    let sending: Vec<_> = senders
        .into_iter()
        .map(|sender| tokio::spawn(send_loop(sender, deadline, counters.clone())))
        .collect();
    let show = |pb: &ProgressBar, counters: &Counters| {
        pb.set_message(format!(
            "sent {} acked {} delivered {} errors {}",
            counters.sent.load(Ordering::Relaxed),
            counters.acked.load(Ordering::Relaxed),
            counters.delivered.load(Ordering::Relaxed),
            counters.errors.load(Ordering::Relaxed)
        ));
    };
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        pb.set_position(started.elapsed().as_secs().min(duration.as_secs()));
        show(&pb, &counters);
    }
    for s in sending {
        let _ = s.await;
    }
    let sending_secs = started.elapsed().as_secs_f64();
    let drain_until = Instant::now() + Duration::from_secs(10);
    while counters.delivered.load(Ordering::Relaxed)
        < counters.acked.load(Ordering::Relaxed) * per_message
        && Instant::now() < drain_until
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
        show(&pb, &counters);
    }
    show(&pb, &counters);
    pb.finish();
    stop.store(true, Ordering::Relaxed);
    let mut hist = histogram();
    for r in receiving {
        if let Ok(h) = r.await {
            let _ = hist.add(&h);
        }
    }
    (sending_secs, hist)
}

pub fn report(
    scenario: &str,
    parameters: serde_json::Value,
    secs: f64,
    counters: &Counters,
    hist: &Histogram<u64>,
) -> Report {
    let delivered = counters.delivered.load(Ordering::Relaxed);
    let acked = counters.acked.load(Ordering::Relaxed);
    Report {
        scenario: scenario.to_owned(),
        parameters,
        duration_secs: secs,
        sent: counters.sent.load(Ordering::Relaxed),
        acked,
        send_errors: counters.errors.load(Ordering::Relaxed),
        delivered,
        out_of_order: counters.out_of_order.load(Ordering::Relaxed),
        delivered_per_sec: delivered as f64 / secs,
        acked_per_sec: acked as f64 / secs,
        latency_ms: if hist.is_empty() {
            Latency::default()
        } else {
            Latency::from_micros(hist)
        },
        ..Default::default()
    }
}
