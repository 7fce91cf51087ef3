//! A session's writer: it writes what the session queues, flushing once
//! per batch, records what was delivered once flushed, and closes the
//! connection with the code the session's end calls for.

use crate::registry::{ended, too_slow, Outbound, SessionHandle};
use axum::extract::ws::{CloseFrame, Message};
use futures_util::{Sink, SinkExt};
use std::sync::Arc;

/// Close code for a client that cannot keep up (1008: policy violation).
const CLOSE_TOO_SLOW: u16 = 1008;
/// The reason sent with `CLOSE_TOO_SLOW`.
const TOO_SLOW_REASON: &str = "too slow: the client does not read what it is sent";
/// Close code after a kick (4001, application-defined).
const CLOSE_KICKED: u16 = 4001;

pub(crate) async fn write_loop<S>(
    mut sink: S,
    rx: flume::Receiver<Outbound>,
    handle: Arc<SessionHandle>,
) where
    S: Sink<Message> + Unpin,
{
    let mut watcher = handle.watch();
    let mut slow = handle.watch();
    loop {
        let next = tokio::select! {
            biased;
            _ = too_slow(&mut slow) => None,
            next = rx.recv_async() => next.ok(),
            _ = ended(&mut watcher) => None,
        };
        let Some(first) = next else {
            if handle.was_too_slow() {
                break;
            }
            close(&mut sink, 1000, "closing").await;
            return;
        };
        // Write what is queued, then flush once; what it delivered is
        // recorded once flushed. A write blocked on a client that does not
        // read is abandoned when the session is cut off for it, so that the
        // close frame goes out next instead of behind the whole queue.
        let mut out = Some(first);
        let mut written = Vec::new();
        while let Some(o) = out {
            let wrote = tokio::select! {
                biased;
                _ = too_slow(&mut slow) => None,
                wrote = write(&mut sink, o, &mut written) => Some(wrote),
            };
            match wrote {
                None => break,
                // Kicked or closed: the reader stops too.
                Some(false) => {
                    handle.finish();
                    return;
                }
                Some(true) => out = rx.try_recv().ok(),
            }
        }
        if handle.was_too_slow() {
            break;
        }
        if sink.flush().await.is_err() {
            return;
        }
        handle.record(written);
    }
    // What is still queued is dropped: the client is told why, once what it
    // has not read yet is through.
    close(&mut sink, CLOSE_TOO_SLOW, TOO_SLOW_REASON).await;
}

/// Writes one outbound item, adding what it delivers to `written`; false
/// when the connection is done.
async fn write<S: Sink<Message> + Unpin>(
    sink: &mut S,
    out: Outbound,
    written: &mut Vec<confab_service::Looked>,
) -> bool {
    match out {
        Outbound::Frame(f) => sink.feed(f.into()).await.is_ok(),
        Outbound::Push(f, delivered) => {
            let ok = sink.feed(f.into()).await.is_ok();
            if ok {
                written.extend(delivered.map(|looked| *looked));
            }
            ok
        }
        Outbound::Note(delivered) => {
            written.extend(delivered);
            true
        }
        Outbound::Last(f) => {
            let _ = sink.feed(f.into()).await;
            close(sink, CLOSE_KICKED, "kicked").await;
            false
        }
        Outbound::Close(code, reason) => {
            close(sink, code, reason).await;
            false
        }
        Outbound::Ping => sink.feed(Message::Ping(Default::default())).await.is_ok(),
    }
}

async fn close<S: Sink<Message> + Unpin>(sink: &mut S, code: u16, reason: &str) {
    let _ = sink.flush().await;
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    let _ = sink.send(Message::Close(Some(frame))).await;
}
