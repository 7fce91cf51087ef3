//! The reader's handling of server frames, without a server.

use super::*;

fn queue() -> (
    Pending,
    mpsc::UnboundedSender<OpenImPushed>,
    mpsc::UnboundedReceiver<OpenImPushed>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Arc::new(Mutex::new(Some(HashMap::new()))), tx, rx)
}

#[test]
fn bad_frames_are_dropped() {
    let (pending, tx, mut rx) = queue();
    for bytes in [
        &b"not json"[..],
        br#"{"reqIdentifier":2001,"data":"%%%"}"#,
        br#"{"reqIdentifier":2001,"data":"//8="}"#,
        br#"{"reqIdentifier":2001,"data":null}"#,
        br#"{"reqIdentifier":"x"}"#,
    ] {
        on_binary(bytes, &pending, &tx);
    }
    assert!(rx.try_recv().is_err());
}

#[test]
fn a_push_is_one_item_per_message() {
    let (pending, tx, mut rx) = queue();
    let mut push = PushMessages::default();
    let msg = |seq| MsgData {
        send_id: "a".into(),
        seq,
        content: br#"{"content":"hi"}"#.to_vec(),
        ..Default::default()
    };
    push.msgs
        .entry("si_a_b".into())
        .or_default()
        .msgs
        .extend([msg(1), msg(2)]);
    push.notification_msgs
        .entry("n_a_b".into())
        .or_default()
        .msgs
        .push(msg(3));
    let frame = ResponseFrame {
        req_identifier: ident::PUSH,
        operation_id: "op".into(),
        data: encode_data(&push.encode_to_vec()),
        ..Default::default()
    };
    on_binary(&serde_json::to_vec(&frame).unwrap(), &pending, &tx);
    let mut got = Vec::new();
    while let Ok(OpenImPushed::Message(m)) = rx.try_recv() {
        got.push((m.conversation_id, m.notification, m.msg.seq, m.operation_id));
    }
    assert_eq!(
        got,
        vec![
            ("si_a_b".into(), false, 1, "op".into()),
            ("si_a_b".into(), false, 2, "op".into()),
            ("n_a_b".into(), true, 3, "op".into()),
        ]
    );
}

#[test]
fn an_answer_goes_to_its_waiter() {
    let (pending, tx, mut rx) = queue();
    let (wtx, mut wrx) = oneshot::channel();
    lock(&pending).as_mut().unwrap().insert("7".into(), wtx);
    on_binary(
        br#"{"reqIdentifier":1003,"msgIncr":"7","errCode":1001,"errMsg":"no"}"#,
        &pending,
        &tx,
    );
    let answer = wrx.try_recv().unwrap();
    assert_eq!((answer.err_code, answer.err_msg.as_str()), (1001, "no"));
    assert!(rx.try_recv().is_err());
}
