// OpenIM's official JS client SDK (@openim/client-sdk, pinned in
// package.json) against a running Confab, unchanged: only its two
// addresses point at Confab. Run by the Rust test `openim_sdk` (which
// starts the server) as `node flows.mjs`, with CONFAB_URL (http://host:port)
// and CONFAB_SECRET. Each flow prints `ok <name>`; the first failure prints
// `FAIL <name>: <why>` and exits 1.
//
// The SDK needs, in Node 20: a WebSocket global whose binary frames are
// ArrayBuffers, and FileReader for uploads. Its modern build is used: the
// others break catch-up after a reconnect (`[].concat(map.entries())`).

import WS from 'ws';
import { getSDK, CbEvents } from '@openim/client-sdk/lib/index.modern.mjs';

globalThis.WebSocket = class extends WS {
  constructor(url, protocols, opts) {
    super(url, protocols, opts);
    this.binaryType = 'arraybuffer';
  }
};
if (!globalThis.FileReader) {
  globalThis.FileReader = class {
    readAsArrayBuffer(blob) {
      blob.arrayBuffer().then(
        (r) => { this.result = r; this.onload?.({ target: this }); },
        (e) => this.onerror?.(e),
      );
    }
  };
}

const base = process.env.CONFAB_URL;
const secret = process.env.CONFAB_SECRET;
if (!base || !secret) {
  console.error('CONFAB_URL and CONFAB_SECRET must be set');
  process.exit(2);
}
const wsAddr = base.replace(/^http/, 'ws');
const run = Date.now().toString(36);
const alice = `alice_${run}`;
const bob = `bob_${run}`;
const carol = `carol_${run}`;

// Errors the SDK throws in its background work are server faults.
const background = [];
process.on('unhandledRejection', (e) => background.push(String(e?.stack ?? e)));

let current = 'setup';
function fail(why) {
  console.log(`FAIL ${current}: ${why}`);
  process.exit(1);
}
function check(cond, why) {
  if (!cond) fail(why);
}
function eq(actual, expected, what) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    fail(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

async function post(path, body, token) {
  const headers = { 'content-type': 'application/json', operationID: `${Date.now()}` };
  if (token) headers.token = token;
  const r = await fetch(base + path, { method: 'POST', headers, body: JSON.stringify(body) });
  const j = await r.json();
  if (j.errCode !== 0) fail(`${path}: ${JSON.stringify(j)}`);
  return j.data;
}

// A new token for a user's platform ends the old one: the SDK's users are
// on the web (5); other clients of theirs take another platform.
async function token(userID, platform = 5) {
  const d = await post('/auth/user_token', { secret, platform, userID, operationID: '1' });
  return d.token;
}

// Every SDK event of an instance, so that a flow can wait for one that
// may already have come.
function watch(sdk, name) {
  const seen = [];
  const waiters = [];
  for (const ev of Object.values(CbEvents)) {
    sdk.on(ev, (e) => {
      seen.push({ ev, data: e.data });
      for (const w of [...waiters]) {
        if (w.ev === ev && w.pred(e.data)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e.data);
        }
      }
    });
  }
  return {
    name,
    seen,
    wait(ev, pred = () => true, ms = 5000) {
      const hit = seen.find((s) => s.ev === ev && pred(s.data));
      if (hit) return Promise.resolve(hit.data);
      return new Promise((resolve) => {
        const w = { ev, pred, resolve };
        waiters.push(w);
        setTimeout(() => {
          if (waiters.includes(w)) fail(`${name}: no ${ev} within ${ms} ms`);
        }, ms);
      });
    },
    clear() {
      seen.length = 0;
    },
  };
}

async function login(userID, platformID = 5) {
  const sdk = getSDK();
  const events = watch(sdk, userID);
  const t = await token(userID, platformID);
  await sdk.login({ userID, token: t, platformID, apiAddr: base, wsAddr, logLevel: 5 });
  await Promise.race([
    events.wait(CbEvents.OnSyncServerFinish, () => true, 10000),
    events.wait(CbEvents.OnSyncServerFailed, () => true, 10000).then((e) => fail(`sync failed: ${JSON.stringify(e)}`)),
  ]);
  return { sdk, events, userID };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const text = (m) => m?.textElem?.content;

async function history(sdk, conversationID, count = 20) {
  const { data } = await sdk.getAdvancedHistoryMessageList({
    conversationID, count, startClientMsgID: '', viewType: 0,
  });
  return data.messageList;
}

async function conversation(sdk, conversationID) {
  const { data } = await sdk.getConversationListSplit({ offset: 0, count: 50 });
  return data.find((c) => c.conversationID === conversationID);
}

async function flow(name, body) {
  current = name;
  await body();
  check(background.length === 0, `SDK background errors: ${background.join(' | ')}`);
  console.log(`ok ${name}`);
}

for (const u of [alice, bob, carol]) {
  await post('/auth/user_register', {
    secret, platform: 5, userID: u, nickname: u.split('_')[0], operationID: '1',
  });
}
const chat = `si_${[alice, bob].sort().join('_')}`;
let A, B;

await flow('login', async () => {
  A = await login(alice);
  B = await login(bob);
  eq((await A.sdk.getLoginStatus()).data, 3, 'login status');
});

let sent;
await flow('one-to-one send, live receipt and the sender seq', async () => {
  const { data: msg } = await A.sdk.createTextMessage('hello bob');
  const { data } = await A.sdk.sendMessage({ recvID: bob, groupID: '', message: msg });
  sent = data;
  eq(data.status, 2, 'sent status');
  check(data.serverMsgID, 'a serverMsgID');
  const got = await B.events.wait(CbEvents.OnRecvNewMessages, (ms) => ms.some((m) => text(m) === 'hello bob'));
  const m = got.find((x) => text(x) === 'hello bob');
  eq([m.sendID, m.seq, m.clientMsgID], [alice, 1, data.clientMsgID], 'received message');
  await sleep(100);
  const mine = await history(A.sdk, chat);
  eq(mine.map((x) => [text(x), x.seq]), [['hello bob', 1]], "the sender's history");
});

await flow('conversation list with last message and unread count', async () => {
  const c = await conversation(B.sdk, chat);
  check(c, `bob has ${chat}`);
  eq(c.unreadCount, 1, 'unread');
  eq(text(JSON.parse(c.latestMsg)), 'hello bob', 'latest message');
  const mine = await conversation(A.sdk, chat);
  eq(mine.unreadCount, 0, "the sender's unread");
});

await flow('mark as read: the unread drops on the other device', async () => {
  // Bob's second device, on Windows.
  const B2 = await login(bob, 3);
  eq((await conversation(B2.sdk, chat)).unreadCount, 1, 'unread on the other device before');
  await B.sdk.markConversationMessageAsRead(chat);
  eq((await conversation(B.sdk, chat)).unreadCount, 0, 'unread after reading');
  const receipt = await A.events.wait(CbEvents.OnRecvC2CReadReceipt);
  eq(receipt[0].userID, bob, 'the receipt names the reader');
  await B2.events.wait(CbEvents.OnConversationChanged, (cs) => cs.some((c) => c.conversationID === chat && c.unreadCount === 0));
  eq((await conversation(B2.sdk, chat)).unreadCount, 0, 'unread on the other device after');
  await B2.sdk.logout();
});

await flow('conversation settings reach every device', async () => {
  await A.sdk.setConversation({ conversationID: chat, isPinned: true });
  const changed = await A.events.wait(CbEvents.OnConversationChanged, (cs) => cs.some((c) => c.conversationID === chat && c.isPinned));
  check(changed, 'pinned');
});

await flow('revoke', async () => {
  await A.sdk.revokeMessage({ conversationID: chat, clientMsgID: sent.clientMsgID });
  const revoked = await B.events.wait(CbEvents.OnNewRecvMessageRevoked);
  eq([revoked.clientMsgID, revoked.seq], [sent.clientMsgID, 1], 'what bob sees revoked');
});

await flow('a Confab /ws client and the admin API talk with the SDK', async () => {
  // Bob also on Android, over Confab's own protocol.
  const ws = new WS(`${wsAddr}/ws?token=${await token(bob, 2)}&platformID=2`);
  const frames = [];
  ws.on('message', (b) => frames.push(JSON.parse(b.toString())));
  await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
  ws.send(JSON.stringify({ type: 'send', reqID: '1', data: {
    sessionType: 1, recvID: alice, contentType: 101, content: { text: 'from ws' }, clientMsgID: `ws-${run}` } }));
  await A.events.wait(CbEvents.OnRecvNewMessages, (ms) => ms.some((m) => text(m) === 'from ws'));
  const { data: msg } = await A.sdk.createTextMessage('to ws');
  await A.sdk.sendMessage({ recvID: bob, groupID: '', message: msg });
  for (let i = 0; i < 50 && !frames.some((f) => f.type === 'push' && f.data?.content?.text === 'to ws'); i++) await sleep(50);
  check(frames.some((f) => f.type === 'push' && f.data.content.text === 'to ws'), `the /ws client got the SDK's message: ${JSON.stringify(frames)}`);
  ws.close();
  const admin = await token('openIM123456', 8);
  await post('/manager/send_msg', {
    sendID: bob, recvID: alice, content: { text: 'from admin' }, contentType: 101, sessionType: 1, operationID: '9',
  }, admin);
  await A.events.wait(CbEvents.OnRecvNewMessages, (ms) => ms.some((m) => text(m) === 'from admin'));
});

await flow('an image message, fetched back by the other user', async () => {
  // A 1x1 PNG.
  const png = Buffer.from(
    'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==',
    'base64',
  );
  const file = new File([png], 'dot.png', { type: 'image/png' });
  const picture = (uuid) => ({ uuid, type: 'image/png', size: png.length, width: 1, height: 1, url: '' });
  const { data: msg } = await A.sdk.createImageMessageByFile({
    sourcePicture: picture(`src-${run}`), bigPicture: picture(`big-${run}`), snapshotPicture: picture(`snap-${run}`),
    sourcePath: 'dot.png', file,
  });
  await A.sdk.sendMessage({ recvID: bob, groupID: '', message: msg });
  const got = await B.events.wait(CbEvents.OnRecvNewMessages, (ms) => ms.some((m) => m.pictureElem));
  const url = got.find((m) => m.pictureElem).pictureElem.sourcePicture.url;
  check(url.startsWith(base), `the picture is served by Confab: ${url}`);
  const fetched = Buffer.from(await (await fetch(url)).arrayBuffer());
  check(fetched.equals(png), `the picture bob fetches is alice's (${fetched.length} bytes)`);
});

let group;
await flow('a group created through the SDK', async () => {
  const { data } = await A.sdk.createGroup({ memberUserIDs: [bob, carol], groupInfo: { groupName: 'G1', groupType: 2 } });
  group = data;
  check(group.groupID, 'a group id');
  const C = await login(carol);
  const { data: msg } = await A.sdk.createTextMessage('hi group');
  await A.sdk.sendMessage({ recvID: '', groupID: group.groupID, message: msg });
  for (const X of [B, C]) {
    const got = await X.events.wait(CbEvents.OnRecvNewMessages, (ms) => ms.some((m) => text(m) === 'hi group'));
    const m = got.find((x) => text(x) === 'hi group');
    eq([m.groupID, m.sessionType], [group.groupID, 3], `${X.userID}'s group message`);
  }
  C.sdk.logout();
});

await flow('online status subscription', async () => {
  const { data } = await A.sdk.subscribeUsersStatus([carol]);
  eq([data[0].userID, data[0].status], [carol, 0], 'carol is offline');
  const C = await login(carol);
  const online = await A.events.wait(CbEvents.OnUserStatusChanged, (u) => u.userID === carol && u.status === 1);
  eq(online.platformIDs, [5], 'carol on the web');
  await C.sdk.logout();
  await A.events.wait(CbEvents.OnUserStatusChanged, (u) => u.userID === carol && u.status === 0);
});

await flow('a friend request and its acceptance', async () => {
  await A.sdk.addFriend({ toUserID: bob, reqMsg: 'hi' });
  const req = await B.events.wait(CbEvents.OnFriendApplicationAdded);
  eq([req.fromUserID, req.toUserID], [alice, bob], 'the request bob sees');
  await B.sdk.acceptFriendApplication({ toUserID: alice, handleMsg: 'ok' });
  const added = await B.events.wait(CbEvents.OnFriendAdded);
  eq(added.userID, alice, "bob's new friend");
});

await flow('log out, log in on a fresh SDK, see the history', async () => {
  // What the last flows pushed is handled first: an instance that logged
  // out fails the work still under way (its addresses are cleared).
  await sleep(1000);
  await A.sdk.logout();
  A = await login(alice);
  const mine = await history(A.sdk, chat);
  check(mine.some((m) => text(m) === 'to ws'), `history after a new login: ${JSON.stringify(mine.map(text))}`);
});

await flow('a second login on the same platform kicks the first', async () => {
  const second = await login(alice);
  await A.events.wait(CbEvents.OnKickedOffline);
  second.sdk.logout();
});

process.exit(0);
