//! The HTTP routes OpenIM's v3 SDK calls for its conversation list,
//! messages and files, with the SDK's bodies (protobuf for `/jssdk/*`).

use crate::harness::*;
use base64::Engine;
use confab_openim_pb::openim::jssdk;
use confab_openim_pb::Message as _;
use serde_json::{json, Value};

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// A POST with the SDK's headers; the whole answer body.
async fn post(t: &TestServer, token: &str, path: &str, content_type: &str, body: Vec<u8>) -> Value {
    reqwest::Client::new()
        .post(format!("{}{path}", t.url()))
        .header("token", token)
        .header("operationID", "op-1")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

async fn json_post(t: &TestServer, token: &str, path: &str, body: Value) -> Value {
    post(
        t,
        token,
        path,
        "application/json",
        serde_json::to_vec(&body).unwrap(),
    )
    .await
}

fn ok_data(answer: &Value) -> &Value {
    assert_eq!(answer["errCode"], json!(0), "{answer}");
    &answer["data"]
}

async fn token_of(t: &TestServer, user: &str) -> String {
    t.user(user).await;
    t.anon.user_token(SECRET, user, 5).await.unwrap()
}

async fn send_text(t: &TestServer, from: &str, to: &str, text: &str) -> Value {
    data(
        &t.admin,
        "/manager/send_msg",
        json!({"sendID": from, "recvID": to, "content": {"text": text}, "contentType": 101, "sessionType": 1, "operationID": op()}),
    )
    .await
}

async fn active(t: &TestServer, token: &str, owner: &str) -> jssdk::GetActiveConversationsResp {
    let req = jssdk::GetActiveConversationsReq {
        owner_user_id: owner.into(),
        count: 20,
    };
    let answer = post(
        t,
        token,
        "/jssdk/get_active_conversations",
        "application/x-protobuf",
        req.encode_to_vec(),
    )
    .await;
    let bytes = B64.decode(ok_data(&answer).as_str().unwrap()).unwrap();
    jssdk::GetActiveConversationsResp::decode(bytes.as_slice()).unwrap()
}

async fn the_conversation_list_has_last_messages_and_unread(t: &TestServer) {
    let ann = token_of(t, "cl_ann").await;
    t.user("cl_ben").await;
    t.user("cl_cy").await;
    // Nothing yet: still an answer the SDK can decode.
    let empty = active(t, &ann, "cl_ann").await;
    assert_eq!((empty.unread_count, empty.conversations.len()), (0, 0));
    send_text(t, "cl_ben", "cl_ann", "one").await;
    send_text(t, "cl_ben", "cl_ann", "two").await;
    send_text(t, "cl_cy", "cl_ann", "three").await;
    let list = active(t, &ann, "cl_ann").await;
    assert_eq!(list.unread_count, 3);
    let ids: Vec<_> = list
        .conversations
        .iter()
        .map(|c| c.conversation.as_ref().unwrap().conversation_id.clone())
        .collect();
    assert_eq!(
        ids,
        vec!["si_cl_ann_cl_cy", "si_cl_ann_cl_ben"],
        "newest first"
    );
    let ben = &list.conversations[1];
    let last = ben.last_msg.as_ref().unwrap();
    assert_eq!(
        (last.seq, last.content.as_slice()),
        (2, br#"{"content":"two"}"#.as_slice())
    );
    assert_eq!((ben.max_seq, ben.read_seq), (2, 0));
    assert_eq!(ben.user.as_ref().unwrap().nickname, "nick cl_ben");
    assert!(ben.friend.is_none());
    let c = ben.conversation.as_ref().unwrap();
    assert_eq!(
        (
            c.conversation_type,
            c.user_id.as_str(),
            c.owner_user_id.as_str()
        ),
        (1, "cl_ben", "cl_ann")
    );

    // One conversation by id, in JSON this time; one the user has not is left out.
    let answer = json_post(t, &ann, "/jssdk/get_conversations",
        json!({"ownerUserID": "cl_ann", "conversationIDs": ["si_cl_ann_cl_ben", "si_cl_ann_nobody"]})).await;
    let bytes = B64.decode(ok_data(&answer).as_str().unwrap()).unwrap();
    let got = jssdk::GetConversationsResp::decode(bytes.as_slice()).unwrap();
    assert_eq!((got.unread_count, got.conversations.len()), (2, 1));

    // Another user's list is refused, in the envelope.
    let ben_token = t.anon.user_token(SECRET, "cl_ben", 5).await.unwrap();
    let req = jssdk::GetActiveConversationsReq {
        owner_user_id: "cl_ann".into(),
        count: 20,
    };
    let refused = post(
        t,
        &ben_token,
        "/jssdk/get_active_conversations",
        "application/x-protobuf",
        req.encode_to_vec(),
    )
    .await;
    assert_ne!(refused["errCode"], json!(0), "{refused}");
    let garbage = post(
        t,
        &ann,
        "/jssdk/get_active_conversations",
        "application/x-protobuf",
        vec![0xff, 0xff],
    )
    .await;
    assert!(
        garbage["errMsg"].as_str().unwrap().contains("not protobuf"),
        "{garbage}"
    );
}

async fn messages_are_read_revoked_deleted_and_cleared(t: &TestServer) {
    let dee = token_of(t, "mr_dee").await;
    t.user("mr_eve").await;
    send_text(t, "mr_eve", "mr_dee", "a").await;
    send_text(t, "mr_eve", "mr_dee", "b").await;
    let chat = "si_mr_dee_mr_eve";
    let read = json_post(
        t,
        &dee,
        "/msg/mark_conversation_as_read",
        json!({"conversationID": chat, "seqs": [1, 2], "hasReadSeq": 2, "userID": "mr_dee"}),
    )
    .await;
    assert_eq!(ok_data(&read), &json!({}));
    let list = active(t, &dee, "mr_dee").await;
    assert_eq!((list.unread_count, list.conversations[0].read_seq), (0, 2));
    // Someone else's read is refused.
    let other = json_post(
        t,
        &dee,
        "/msg/mark_conversation_as_read",
        json!({"conversationID": chat, "seqs": [1], "hasReadSeq": 1, "userID": "mr_eve"}),
    )
    .await;
    assert_ne!(other["errCode"], json!(0), "{other}");

    let eve = t.anon.user_token(SECRET, "mr_eve", 5).await.unwrap();
    let revoked = json_post(
        t,
        &eve,
        "/msg/revoke_msg",
        json!({"conversationID": chat, "seq": 2, "userID": "mr_eve"}),
    )
    .await;
    assert_eq!(ok_data(&revoked), &json!({}));
    let list = active(t, &dee, "mr_dee").await;
    let last = list.conversations[0].last_msg.as_ref().unwrap();
    assert_eq!(
        last.content_type, 2101,
        "the revoke is the newest message, as OpenIM's notice"
    );
    let again = json_post(
        t,
        &eve,
        "/msg/revoke_msg",
        json!({"conversationID": chat, "seq": 2, "userID": "mr_eve"}),
    )
    .await;
    assert!(
        again["errMsg"]
            .as_str()
            .unwrap()
            .contains("already revoked"),
        "{again}"
    );

    let pinned = json_post(t, &dee, "/conversation/set_conversations",
        json!({"conversation": {"conversationID": chat, "conversationType": 1, "userID": "mr_eve", "groupID": "", "isPinned": true, "recvMsgOpt": {"value": 2}}, "userIDs": ["mr_dee"]})).await;
    assert_eq!(ok_data(&pinned), &json!({}));
    let c = active(t, &dee, "mr_dee").await.conversations[0]
        .conversation
        .clone()
        .unwrap();
    assert_eq!((c.is_pinned, c.recv_msg_opt), (true, 2));

    let deleted = json_post(
        t,
        &dee,
        "/msg/delete_msgs",
        json!({"conversationID": chat, "seqs": [1], "userID": "mr_dee"}),
    )
    .await;
    assert_eq!(ok_data(&deleted), &json!({}));
    let cleared = json_post(
        t,
        &dee,
        "/msg/clear_conversation_msg",
        json!({"conversationIDs": [chat], "userID": "mr_dee"}),
    )
    .await;
    assert_eq!(ok_data(&cleared), &json!({}));
    let list = active(t, &dee, "mr_dee").await;
    assert!(
        list.conversations.is_empty(),
        "nothing left to show: {list:?}"
    );
}

async fn a_file_is_uploaded_in_parts_and_served(t: &TestServer) {
    let fay = token_of(t, "up_fay").await;
    let bytes: Vec<u8> = (0..(5 * 1024 * 1024 + 10))
        .map(|i| (i % 251) as u8)
        .collect();
    let size =
        ok_data(&json_post(t, &fay, "/object/part_size", json!({"size": bytes.len()})).await)
            ["size"]
            .as_i64()
            .unwrap();
    assert_eq!(size, 5 * 1024 * 1024);
    let started = json_post(
        t,
        &fay,
        "/object/initiate_multipart_upload",
        json!({
        "hash": "x", "size": bytes.len(), "partSize": size, "maxParts": -1, "cause": "",
        "name": "up_fay/big file.bin", "contentType": "application/octet-stream"}),
    )
    .await;
    let upload = &ok_data(&started)["upload"];
    assert_eq!(ok_data(&started)["url"], json!(""));
    let parts = upload["sign"]["parts"].as_array().unwrap();
    assert_eq!(parts.len(), 2);
    let http = reqwest::Client::new();
    let chunks: Vec<&[u8]> = bytes.chunks(size as usize).collect();
    // A part of the wrong size is refused.
    let wrong = http
        .put(parts[1]["url"].as_str().unwrap())
        .body(vec![0u8; 3])
        .send()
        .await
        .unwrap();
    let wrong: Value = wrong.json().await.unwrap();
    assert!(
        wrong["errMsg"]
            .as_str()
            .unwrap()
            .contains("must be 10 bytes"),
        "{wrong}"
    );
    let mut md5s = Vec::new();
    for (part, chunk) in parts.iter().zip(&chunks) {
        let r = http
            .put(part["url"].as_str().unwrap())
            .body(chunk.to_vec())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        md5s.push(format!("{:x}", <md5::Md5 as md5::Digest>::digest(chunk)));
    }
    let id = upload["uploadID"].as_str().unwrap();
    let bad = json_post(t, &fay, "/object/complete_multipart_upload",
        json!({"uploadID": id, "parts": [md5s[0], "00"], "cause": "", "name": "up_fay/big file.bin", "contentType": ""})).await;
    assert!(
        bad["errMsg"].as_str().unwrap().contains("MD5 of part 2"),
        "{bad}"
    );
    let done = json_post(t, &fay, "/object/complete_multipart_upload",
        json!({"uploadID": id, "parts": md5s, "cause": "", "name": "up_fay/big file.bin", "contentType": ""})).await;
    let url = ok_data(&done)["url"].as_str().unwrap().to_owned();
    assert!(url.ends_with("-big_file.bin"), "{url}");
    let fetched = http
        .get(format!("{url}?type=image&width=640&height=640"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(fetched == bytes, "the file served is the file uploaded");
    let access = json_post(t, &fay, "/object/access_url", json!({"name": url})).await;
    assert_eq!(ok_data(&access)["url"], json!(url));
    let missing = json_post(
        t,
        &fay,
        "/object/access_url",
        json!({"name": "objects/nothing.bin"}),
    )
    .await;
    assert_ne!(missing["errCode"], json!(0));
    let too_big = json_post(t, &fay, "/object/part_size", json!({"size": 1i64 << 40})).await;
    assert!(
        too_big["errMsg"].as_str().unwrap().starts_with("size:"),
        "{too_big}"
    );
}

on_sqlite!(
    the_conversation_list_has_last_messages_and_unread,
    messages_are_read_revoked_deleted_and_cleared,
    a_file_is_uploaded_in_parts_and_served
);
