//! Sending one message to a list of targets as a dialect received them:
//! the targets that parsed go to the service in one `send_many` (one
//! commit), and each target gets its own result, in the list's order.

use confab_core::message::Recipient;
use confab_core::{Error, Result};
use confab_service::{Caller, OutgoingMessage, SendOutcome, Service};

/// One result per target: a target that did not parse keeps its error; the
/// others get what `send_many` answered for them. `Err` only when
/// `send_many` refuses the whole batch.
pub async fn send_each(
    service: &Service,
    caller: &Caller,
    message: OutgoingMessage,
    targets: Vec<Result<Recipient>>,
) -> Result<Vec<Result<SendOutcome>>> {
    let valid: Vec<Recipient> = targets.iter().filter_map(|t| t.clone().ok()).collect();
    let mut sent = if valid.is_empty() {
        Vec::new()
    } else {
        service.send_many(caller, message, &valid).await?
    }
    .into_iter();
    Ok(targets
        .into_iter()
        .map(|target| match target {
            Ok(_) => sent
                .next()
                .unwrap_or_else(|| Err(Error::internal("send_many answered too few"))),
            Err(e) => Err(e),
        })
        .collect())
}
