//! Every route of the router, by method, and a check that the list keeps
//! up with the routers' sources: a route added without being fuzzed fails
//! `every_route_is_fuzzed`.

use axum::http::Method;

/// `(method, path)`; `{x}` segments are filled in by the generator.
pub const ROUTES: &[(Method, &str)] = &[
    (Method::GET, "/"),
    (Method::GET, "/files/{kind}/{name}"),
    (Method::GET, "/man/account/token"),
    (Method::GET, "/man/user/info"),
    (Method::GET, "/man/user/info/update/all"),
    (Method::GET, "/v1/user/token"),
    (Method::GET, "/v1/ws"),
    (Method::GET, "/ws"),
    (Method::POST, "/accessuser/getimtoken"),
    (Method::POST, "/accessuser/signinbysms"),
    (Method::POST, "/accessuser/updateuserinfo"),
    (Method::POST, "/auth/force_logout"),
    (Method::POST, "/auth/parse_token"),
    (Method::POST, "/auth/user_register"),
    (Method::POST, "/auth/user_token"),
    (Method::POST, "/conversation/batch_set_conversation"),
    (Method::POST, "/conversation/get_all_conversations"),
    (Method::POST, "/conversation/get_conversation"),
    (Method::POST, "/conversation/get_conversations"),
    (Method::POST, "/conversation/get_incremental_conversations"),
    (
        Method::POST,
        "/conversation/get_not_notify_conversation_ids",
    ),
    (Method::POST, "/conversation/modify_conversation_field"),
    (Method::POST, "/conversation/set_conversation"),
    (Method::POST, "/conversation/set_conversations"),
    (Method::POST, "/conversation/set_recv_msg_opt"),
    (Method::POST, "/friend/add_black"),
    (Method::POST, "/friend/add_blacklist"),
    (Method::POST, "/friend/add_friend"),
    (Method::POST, "/friend/add_friend_response"),
    (Method::POST, "/friend/delete_friend"),
    (Method::POST, "/friend/get_black_list"),
    (Method::POST, "/friend/get_blacklist"),
    (Method::POST, "/friend/get_designated_friend_apply"),
    (Method::POST, "/friend/get_designated_friends"),
    (Method::POST, "/friend/get_friend_apply_list"),
    (Method::POST, "/friend/get_friend_list"),
    (Method::POST, "/friend/get_full_friend_user_ids"),
    (Method::POST, "/friend/get_incremental_friends"),
    (Method::POST, "/friend/get_self_friend_apply_list"),
    (Method::POST, "/friend/get_specified_blacks"),
    (Method::POST, "/friend/import_friend"),
    (Method::POST, "/friend/is_friend"),
    (Method::POST, "/friend/remove_black"),
    (Method::POST, "/friend/remove_blacklist"),
    (Method::POST, "/friend/set_friend_remark"),
    (Method::POST, "/friend/update_friends"),
    (Method::POST, "/group/cancel_mute_group"),
    (Method::POST, "/group/cancel_mute_group_member"),
    (Method::POST, "/group/create_group"),
    (Method::POST, "/group/dismiss_group"),
    (Method::POST, "/group/get_full_group_member_user_ids"),
    (Method::POST, "/group/get_full_join_group_ids"),
    (Method::POST, "/group/get_group_all_member_list"),
    (Method::POST, "/group/get_group_member_list"),
    (Method::POST, "/group/get_group_members_info"),
    (Method::POST, "/group/get_groups_info"),
    (Method::POST, "/group/get_incremental_group_members_batch"),
    (Method::POST, "/group/get_incremental_join_groups"),
    (Method::POST, "/group/get_joined_group_list"),
    (Method::POST, "/group/get_recv_group_applicationList"),
    (Method::POST, "/group/get_specified_user_group_request_info"),
    (Method::POST, "/group/get_user_req_group_applicationList"),
    (Method::POST, "/group/group_application_response"),
    (Method::POST, "/group/invite_user_to_group"),
    (Method::POST, "/group/join_group"),
    (Method::POST, "/group/kick_group"),
    (Method::POST, "/group/mute_group"),
    (Method::POST, "/group/mute_group_member"),
    (Method::POST, "/group/quit_group"),
    (Method::POST, "/group/set_group_info"),
    (Method::POST, "/group/set_group_info_ex"),
    (Method::POST, "/group/set_group_member_info"),
    (Method::POST, "/group/set_group_member_nickname"),
    (Method::POST, "/group/transfer_group"),
    (Method::POST, "/hx/addFriends"),
    (Method::POST, "/hx/createChatroom"),
    (Method::POST, "/hx/deleteChatroom"),
    (Method::POST, "/hx/getChatrooms"),
    (Method::POST, "/hx/getFriends"),
    (Method::POST, "/hx/getToken"),
    (Method::POST, "/hx/getUser"),
    (Method::POST, "/hx/getUserStatus"),
    (Method::POST, "/hx/offlineMsgCount"),
    (Method::POST, "/hx/registerUser"),
    (Method::POST, "/hx/resetPassword"),
    (Method::POST, "/hx/sendMessages"),
    (Method::POST, "/hx/userToken"),
    (Method::POST, "/jssdk/get_active_conversations"),
    (Method::POST, "/jssdk/get_conversations"),
    (Method::POST, "/man/msg/send"),
    (Method::POST, "/man/user/info/update"),
    (Method::POST, "/man/user/register"),
    (Method::POST, "/manager/account_check"),
    (Method::POST, "/manager/batch_send_msg"),
    (Method::POST, "/manager/delete_user"),
    (Method::POST, "/manager/get_all_users_uid"),
    (Method::POST, "/manager/get_users_online_status"),
    (Method::POST, "/manager/send_msg"),
    (Method::POST, "/msg/batch_send_msg"),
    (Method::POST, "/msg/clear_conversation_msg"),
    (Method::POST, "/msg/clear_msg"),
    (Method::POST, "/msg/del_msg"),
    (Method::POST, "/msg/delete_msgs"),
    (Method::POST, "/msg/manage_send_msg"),
    (Method::POST, "/msg/mark_conversation_as_read"),
    (Method::POST, "/msg/newest_seq"),
    (Method::POST, "/msg/pull_msg_by_seq"),
    (Method::POST, "/msg/revoke_msg"),
    (Method::POST, "/msg/send_msg"),
    (Method::POST, "/object/access_url"),
    (Method::POST, "/object/complete_multipart_upload"),
    (Method::POST, "/object/initiate_multipart_upload"),
    (Method::POST, "/object/part_size"),
    (Method::POST, "/relation/followlist"),
    (Method::POST, "/relation/operation"),
    (Method::POST, "/sms/send"),
    (Method::POST, "/user/account_check"),
    (Method::POST, "/user/delete_user"),
    (Method::POST, "/user/get_all_users_uid"),
    (Method::POST, "/user/get_self_user_info"),
    (Method::POST, "/user/get_user_info"),
    (Method::POST, "/user/get_users_info"),
    (Method::POST, "/user/get_users_online_status"),
    (Method::POST, "/user/subscribe_users_status"),
    (Method::POST, "/user/update_user_info"),
    (Method::POST, "/user/update_user_info_ex"),
    (Method::PUT, "/object/upload/{id}/{part}"),
];

/// The gateway's WebSocket upgrades: not an HTTP dialect's route.
pub fn is_upgrade(path: &str) -> bool {
    matches!(path, "/" | "/ws" | "/v1/ws")
}

/// The paths in `.route("...")` calls of a source tree (the gateway's).
fn routed_paths(dir: &std::path::Path, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            routed_paths(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).unwrap();
            for (at, _) in text.match_indices(".route(") {
                let rest = text[at + ".route(".len()..].trim_start();
                if let Some(literal) = rest.strip_prefix('"') {
                    let end = literal.find('"').unwrap();
                    out.push(literal[..end].to_owned());
                }
            }
        }
    }
}

#[test]
fn every_route_is_fuzzed() {
    // The dialects' routes, as their router documents them (utoipa-axum
    // registers and documents a route in one statement), and the
    // gateway's upgrades, from its source.
    let mut routed = crate::fixture::fixture().documented.clone();
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    routed_paths(&crates.join("confab-gateway/src"), &mut routed);
    assert!(routed.len() > 100, "found {} routes", routed.len());
    let missing: Vec<&String> = routed
        .iter()
        .filter(|p| !ROUTES.iter().any(|(_, r)| r == p))
        .collect();
    assert!(missing.is_empty(), "routes not fuzzed: {missing:?}");
}
