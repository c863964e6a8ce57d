//! Fixed-order races on the chat surface: a drain while a back-pagination
//! waits for the server, a handle released while its listener is inside
//! `on_update`, the end signals of every subscription at `shutdown()`, a
//! reaction taken back after its request was answered, and a room's first
//! timeline cancelled while it prepares the room.
//!
//! A request is held in flight by the fault proxy (its answer delayed) and
//! seen in flight by the watch proxy in front of it; no sync runs in the
//! drain tests, so the requests in flight are the call's own.

use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::hooks;
use matrix_mobile_core::platform::open_files_under;
use matrix_mobile_core::{
    shutdown_blocking, Client, CoreError, LogoutOptions, RoomListOptions, RoomListener,
    RoomSummary, ShutdownOptions, TimelineItem, TimelineItemKind, TimelineListener, TimelineUpdate,
    TypingListener,
};
use tempfile::TempDir;

use super::mirror::Mirror;
use super::session::{self, wait, Drain};
use super::watch_proxy::WatchProxy;
use super::{homeserver, on_thread, serial, within, BOUND};

/// A client whose requests go through a fault proxy and a watch proxy in
/// front of it (`watch`), logged in as a fresh user.
pub(crate) struct Proxied {
    pub(crate) client: Arc<Client>,
    pub(crate) faults: homeserver::FaultProxy,
    watch: WatchProxy,
    pub(crate) dir: TempDir,
}

impl Proxied {
    pub(crate) fn login(prefix: &str) -> Self {
        let faults = homeserver::FaultProxy::start();
        let watch = WatchProxy::start(&faults.url);
        let url = watch.url.clone();
        let logged = session::Proxied::login_through(prefix, faults, &url);
        Self {
            client: logged.client,
            faults: logged.proxy,
            watch,
            dir: logged.dir,
        }
    }

    /// Holds back every answer from here on by `delay`.
    pub(crate) fn hold_answers(&self, delay: Duration) {
        self.faults.set_response_delay(delay);
        self.faults.set(homeserver::Fault::Delay);
    }

    /// Waits until no request waits for its answer.
    pub(crate) fn wait_none_in_flight(&self) {
        wait("no request in flight", 20, || {
            self.watch.awaiting_answer() == 0
        });
    }

    /// Waits until a request waits for its answer: the call's, held by
    /// [`Proxied::hold_answers`]. At least one, not exactly one: a request
    /// the client makes of its own accord (a key upload) may be held beside
    /// it, and the count would never read one while both wait.
    pub(crate) fn wait_in_flight(&self, what: &str) {
        wait(what, 20, || self.watch.awaiting_answer() >= 1);
    }
}

/// The item id and event id of the message `body`, once the server has
/// echoed it (no send state: no longer a local echo).
fn sent_event(items: &[TimelineItem], body: &str) -> Option<(String, String)> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            event_id: Some(event_id),
            content: matrix_mobile_core::MessageContent::Text { body: b, .. },
            send_state: None,
            ..
        } if b == body => Some((i.item_id.clone(), event_id.clone())),
        _ => None,
    })
}

fn reactions_on(items: &[TimelineItem], item_id: &str) -> Vec<(String, u32, bool)> {
    items
        .iter()
        .find(|i| i.item_id == item_id)
        .map(|i| match &i.kind {
            TimelineItemKind::Event { reactions, .. } => reactions
                .iter()
                .map(|r| (r.key.clone(), r.count, r.by_me))
                .collect(),
            _ => Vec::new(),
        })
        .unwrap_or_default()
}

/// `path` of the client-server API, read with `client`'s access token.
fn get(client: &Client, path: &str) -> String {
    let token = client.session().expect("a session").access_token;
    homeserver::client_api("GET", path, &token, &serde_json::json!({})).to_string()
}

/// The ids of the reactions the server holds on `event_id`, redacted ones
/// included.
fn reactions_on_server(client: &Client, room_id: &str, event_id: &str) -> Vec<String> {
    let path = format!(
        "/_matrix/client/v1/rooms/{}/relations/{}/m.annotation",
        homeserver::escaped(room_id),
        homeserver::escaped(event_id)
    );
    get(client, &path)
        .split("\"event_id\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|id| *id != event_id)
        .map(str::to_owned)
        .collect()
}

/// Whether the server has redacted the event `event_id`.
fn redacted_on_server(client: &Client, room_id: &str, event_id: &str) -> bool {
    let path = format!(
        "/_matrix/client/v3/rooms/{}/event/{}",
        homeserver::escaped(room_id),
        homeserver::escaped(event_id)
    );
    get(client, &path).contains("redacted_because")
}

/// A reaction taken back after its request was answered, while the toggle
/// still read it as a local echo: the abort finds nothing left to stop, and
/// the reaction is redacted instead. matrix-sdk-ui alone only logs that it
/// could not abort, and the reaction stays, for everyone.
#[test]
fn a_reaction_taken_back_after_its_answer_is_redacted() {
    let _s = serial();
    let alice = Proxied::login("hk-react");
    let room_id = block_on(alice.client.create_room("r".into(), vec![], false)).unwrap();
    // Synced: matrix-sdk-ui redacts a reaction only on a message it has
    // seen come back from the server.
    block_on(alice.client.start_sync()).unwrap();
    let timeline = block_on(alice.client.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    block_on(timeline.send_text("react to me".into(), None)).unwrap();
    wait("the message sent", 20, || {
        sent_event(&mirror.items(), "react to me").is_some()
    });
    let (item_id, event_id) = sent_event(&mirror.items(), "react to me").unwrap();

    // The reaction is a local echo while the server's answers are held
    // back; the toggle reads it so, then waits here while its request is
    // answered and leaves the send queue.
    alice.hold_answers(Duration::from_secs(2));
    block_on(timeline.toggle_reaction(item_id.clone(), "👍".into())).unwrap();
    wait("the reaction's echo", 20, || {
        reactions_on(&mirror.items(), &item_id) == [("👍".to_owned(), 1, true)]
    });
    let read = hooks::pause_at("reaction.read");
    let (t, id) = (timeline.clone(), item_id.clone());
    let off = on_thread(move || block_on(t.toggle_reaction(id, "👍".into())));
    assert!(
        read.wait_reached(BOUND),
        "the toggle did not read the reaction"
    );
    alice.faults.set(homeserver::Fault::Pass);
    wait("the server to hold the reaction", 20, || {
        !reactions_on_server(&alice.client, &room_id, &event_id).is_empty()
    });
    let reaction = reactions_on_server(&alice.client, &room_id, &event_id).remove(0);
    // The send queue is serial: a message sent after the reaction has left
    // the queue once the reaction's request has.
    block_on(timeline.send_text("after".into(), None)).unwrap();
    wait("the next message sent", 20, || {
        sent_event(&mirror.items(), "after").is_some()
    });
    read.release();
    within("the toggle", &off).expect("the toggle");

    wait("the reaction redacted on the server", 20, || {
        redacted_on_server(&alice.client, &room_id, &reaction)
    });
    wait("the reaction off on the timeline", 20, || {
        reactions_on(&mirror.items(), &item_id).is_empty()
    });
    let report = block_on(alice.client.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// A logout, a close and a shutdown that begin while a back-pagination
/// waits for the server's answer: the pagination returns (its result or
/// `ClientClosed`), and the drain keeps every promise (the matrix client
/// dropped, no store file open, no task or thread left).
#[test]
fn a_drain_during_a_pagination_in_flight_keeps_its_promises() {
    for drain in Drain::ALL {
        let _s = serial();
        let alice = Proxied::login("hk-pag");
        let room_id = block_on(alice.client.create_room("p".into(), vec![], false)).unwrap();
        for i in 0..20 {
            block_on(alice.client.send_text(room_id.clone(), format!("old {i}"))).unwrap();
        }
        let timeline = block_on(alice.client.timeline(room_id)).unwrap();
        alice.wait_none_in_flight();
        alice.hold_answers(Duration::from_secs(3));
        let t = timeline.clone();
        let pagination = on_thread(move || block_on(t.paginate_backwards(50)));
        alice.wait_in_flight("the pagination's request in flight");
        alice.faults.set(homeserver::Fault::Pass);

        let what = format!("{drain:?}");
        drain.end(alice.client.clone());
        let paginated = within("the pagination", &pagination);
        assert!(
            matches!(paginated, Ok(_) | Err(CoreError::ClientClosed)),
            "{what}: {paginated:?}"
        );
        assert_eq!(open_files_under(alice.dir.path()), Some(0), "{what}");
        assert!(matches!(
            block_on(timeline.paginate_backwards(5)),
            Err(CoreError::ClientClosed)
        ));
    }
}

#[derive(Default)]
struct Typing {
    closed: Mutex<u32>,
}

impl TypingListener for Typing {
    fn on_typing(&self, _user_ids: Vec<String>) {}
    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

/// One room's summaries (`observe_room`): how many came, and end signals.
#[derive(Default)]
struct OneRoom {
    updates: Mutex<u32>,
    closed: Mutex<u32>,
}

impl RoomListener for OneRoom {
    fn on_update(&self, _summary: RoomSummary) {
        *self.updates.lock().unwrap() += 1;
    }
    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

/// `shutdown()` ends every subscription of a live client with its end
/// signal, once: a timeline's, a room list's, a typing subscription's and
/// one room's (a logout's and a close's are tested in `chat.rs`; one
/// room's at a logout in `people.rs`).
#[test]
fn a_shutdown_sends_every_subscription_its_end_signal() {
    let _s = serial();
    let (alice, _session, _dir) = super::logged_in("hk-ends");
    let room_id = block_on(alice.create_room("e".into(), vec![], false)).unwrap();
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let items = Mirror::<TimelineItem>::new();
    let rooms = Mirror::<RoomSummary>::new();
    let typing = Arc::new(Typing::default());
    let _items = timeline.observe(items.clone()).unwrap();
    let _rooms = alice
        .observe_room_list(RoomListOptions::default(), rooms.clone())
        .unwrap();
    let _typing = timeline.observe_typing(typing.clone()).unwrap();
    let one_room = Arc::new(OneRoom::default());
    let _one_room = alice.observe_room(room_id, one_room.clone()).unwrap();
    wait("the room listed", 20, || !rooms.items().is_empty());
    wait("the room's summary", 20, || {
        *one_room.updates.lock().unwrap() > 0
    });

    let report = shutdown_blocking(ShutdownOptions { timeout_ms: 20_000 }).unwrap();
    assert_eq!(report.clients_closed, 1, "{report:?}");
    assert_eq!(items.closed(), 1, "the timeline's end signal");
    assert_eq!(rooms.closed(), 1, "the room list's end signal");
    assert_eq!(*typing.closed.lock().unwrap(), 1, "the typing end signal");
    assert_eq!(*one_room.closed.lock().unwrap(), 1, "one room's end signal");
}

/// A timeline listener that stays inside `on_update` until told to go on.
struct Stuck {
    entered: Mutex<Option<mpsc::Sender<()>>>,
    go_on: Mutex<mpsc::Receiver<()>>,
    closed: Mutex<u32>,
}

impl TimelineListener for Stuck {
    fn on_update(&self, _updates: Vec<TimelineUpdate>) {
        if let Some(entered) = self.entered.lock().unwrap().take() {
            let _ = entered.send(());
            let _ = self.go_on.lock().unwrap().recv_timeout(BOUND);
        }
    }
    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

/// The app releases a timeline (its handle and its subscription) while the
/// listener is inside `on_update`: the release returns without waiting for
/// the listener, the listener gets its end signal once it comes back, the
/// core lets go of it, and a logout afterwards keeps its promises.
#[test]
fn a_timeline_released_while_its_listener_is_inside_on_update() {
    let _s = serial();
    let (alice, _session, _dir) = super::logged_in("hk-release");
    let room_id = block_on(alice.create_room("rl".into(), vec![], false)).unwrap();
    let timeline = block_on(alice.timeline(room_id)).unwrap();
    let (entered_tx, entered) = mpsc::channel();
    let (go_on, go_on_rx) = mpsc::channel();
    let listener = Arc::new(Stuck {
        entered: Mutex::new(Some(entered_tx)),
        go_on: Mutex::new(go_on_rx),
        closed: Mutex::new(0),
    });
    let subscription = timeline.observe(listener.clone()).unwrap();
    entered
        .recv_timeout(BOUND)
        .expect("the listener's first update");

    let released = on_thread(move || {
        subscription.cancel();
        drop(subscription);
        drop(timeline);
    });
    within("the release", &released);
    go_on.send(()).unwrap();
    wait("the listener let go", 20, || {
        Arc::strong_count(&listener) == 1
    });
    assert!(*listener.closed.lock().unwrap() <= 1);
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}

/// A room's first timeline cancelled while it prepares the room (the room
/// list's data in the cache, not yet emptied, the room not subscribed): the
/// next open starts over, and opens with the subscription's answer rather
/// than the room list's latest message behind a stale gap.
#[test]
fn a_first_open_cancelled_before_it_subscribes_leaves_the_next_to_start_over() {
    let _s = serial();
    let (alice, _session, _dir) = super::logged_in("hk-open");
    let room_id = block_on(alice.create_room("o".into(), vec![], false)).unwrap();
    for i in 0..25 {
        block_on(alice.send_text(room_id.clone(), format!("c {i}"))).unwrap();
    }
    block_on(alice.start_sync()).unwrap();
    wait("the room listed", 20, || {
        alice
            .rooms()
            .unwrap()
            .iter()
            .any(|r| r.room_id == room_id && r.latest.as_ref().is_some_and(|l| l.preview == "c 24"))
    });

    let prepared = hooks::pause_at("timeline.first_open");
    let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
    let (c, id) = (alice.clone(), room_id.clone());
    let open = on_thread(move || {
        block_on(async move {
            let open = std::pin::pin!(c.timeline(id));
            matches!(
                futures_util::future::select(open, cancelled).await,
                futures_util::future::Either::Right(_)
            )
        })
    });
    assert!(
        prepared.wait_reached(BOUND),
        "the open never prepared the room"
    );
    cancel.send(()).unwrap();
    assert!(
        within("the cancelled open", &open),
        "the open was not cancelled"
    );
    prepared.release();

    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let (_mirror, _sub, first) = super::mirror::observe_timeline(&timeline);
    let bodies = super::mirror::text_bodies(&first);
    let expected: Vec<String> = (5..25).map(|i| format!("c {i}")).collect();
    assert_eq!(bodies, expected, "the second open started over");
}

/// A logged-in, syncing client with a room of one message, whose first
/// timeline is held at `timeline.first_open` on a thread of its own: the
/// client, the room, its `data_dir`, the hold and the open's outcome.
fn first_open_held(
    prefix: &str,
) -> (
    Arc<Client>,
    String,
    TempDir,
    hooks::Pause,
    mpsc::Receiver<Result<(), CoreError>>,
) {
    let (alice, _session, dir) = super::logged_in(prefix);
    let room_id = block_on(alice.create_room("o".into(), vec![], false)).unwrap();
    block_on(alice.send_text(room_id.clone(), "one".into())).unwrap();
    block_on(alice.start_sync()).unwrap();
    wait("the room listed", 20, || {
        alice.rooms().unwrap().iter().any(|r| r.room_id == room_id)
    });
    let prepared = hooks::pause_at("timeline.first_open");
    let (c, id) = (alice.clone(), room_id.clone());
    let open = on_thread(move || block_on(c.timeline(id)).map(|_| ()));
    assert!(
        prepared.wait_reached(BOUND),
        "the open never prepared the room"
    );
    (alice, room_id, dir, prepared, open)
}

/// A close that begins while a room's first timeline is held preparing the
/// room: the open ends (`ClientClosed`, or its timeline taken back), and the
/// close keeps every drain promise (the matrix client dropped, no store file
/// open, no task left).
#[test]
fn a_close_during_a_first_open_keeps_its_promises() {
    let _s = serial();
    let (alice, _room_id, dir, prepared, open) = first_open_held("hk-open-close");
    let client = alice.clone();
    let closing = on_thread(move || Drain::Close.end(client));
    wait("the close under way", 20, || {
        alice.state() == matrix_mobile_core::ClientState::Closing
    });
    prepared.release();
    within("the close", &closing);
    let opened = within("the open", &open);
    assert!(
        matches!(opened, Ok(()) | Err(CoreError::ClientClosed)),
        "{opened:?}"
    );
    assert_eq!(open_files_under(dir.path()), Some(0));
}

/// A pause that closes the stores while a room's first timeline is held
/// preparing the room: the open ends with the paused client's error
/// (`InvalidState`), or its timeline; never `Internal` (the stress run found
/// the event cache's closed store reported so). After `resume`, the room
/// opens.
#[test]
fn a_pause_during_a_first_open_is_the_paused_error() {
    let _s = serial();
    let (alice, room_id, _dir, prepared, open) = first_open_held("hk-open-pause");
    block_on(alice.pause()).unwrap();
    prepared.release();
    let opened = within("the open", &open);
    assert!(
        matches!(opened, Ok(()) | Err(CoreError::InvalidState { .. })),
        "{opened:?}"
    );
    block_on(alice.resume()).unwrap();
    block_on(alice.timeline(room_id)).unwrap();
    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
}

/// The message `body` as plain text.
fn plain(body: &str) -> matrix_mobile_core::OutgoingMessage {
    matrix_mobile_core::OutgoingMessage {
        body: body.into(),
        markdown: false,
        kind: matrix_mobile_core::OutgoingKind::Text,
        mentions: Vec::new(),
        mention_room: false,
    }
}

/// The item id, `in_reply_to` and event id (once sent) of the message
/// `body`.
type Message = (String, Option<String>, Option<String>);

fn message(items: &[TimelineItem], body: &str) -> Option<Message> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            content: matrix_mobile_core::MessageContent::Text { body: b, .. },
            in_reply_to,
            event_id,
            ..
        } if b == body => Some((i.item_id.clone(), in_reply_to.clone(), event_id.clone())),
        _ => None,
    })
}

/// A proxied client's own room, its timeline observed, and the message
/// `body` sent with its answer held by `hold`: returned once its echo is
/// listed and its request is in flight (the only one).
struct HeldSend {
    alice: Proxied,
    timeline: Arc<matrix_mobile_core::Timeline>,
    items: Arc<Mirror<TimelineItem>>,
    _observed: Arc<matrix_mobile_core::Subscription>,
    /// The echo's item id.
    echo: String,
}

impl HeldSend {
    fn start(prefix: &str, body: &str, hold: Duration) -> Self {
        let alice = Proxied::login(prefix);
        let room_id = block_on(alice.client.create_room("r".into(), vec![], false)).unwrap();
        let timeline = block_on(alice.client.timeline(room_id)).unwrap();
        let items = Mirror::<TimelineItem>::new();
        let observed = timeline.observe(items.clone()).unwrap();
        alice.wait_none_in_flight();

        alice.hold_answers(hold);
        block_on(timeline.send_message(plain(body), None)).unwrap();
        wait("the echo", 10, || message(&items.items(), body).is_some());
        let (echo, ..) = message(&items.items(), body).unwrap();
        alice.wait_in_flight("its request in flight");
        Self {
            alice,
            timeline,
            items,
            _observed: observed,
            echo,
        }
    }
}

/// A reply to a local echo whose request the server holds waits for the
/// echo to be sent, then replies to its event: it does not return while
/// the original is in flight, and the reply names the original's event id.
#[test]
fn a_reply_to_an_echo_in_flight_waits_for_it_and_names_its_event() {
    let _s = serial();
    let held = HeldSend::start("hk-reply", "the original", Duration::from_secs(3));
    let (timeline, items) = (&held.timeline, &held.items);
    held.alice.faults.set(homeserver::Fault::Pass);
    let echo = held.echo.clone();
    let t = timeline.clone();
    let reply = on_thread(move || block_on(t.send_message(plain("the reply"), Some(echo))));
    // The original's answer is held for 3 s from its request: meanwhile the
    // reply waits.
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        reply.try_recv().is_err(),
        "the reply returned while the original was still in flight"
    );
    within("the reply", &reply).unwrap();
    let original = match message(&items.items(), "the original") {
        Some((_, _, Some(event_id))) => event_id,
        other => panic!("the original was not sent before its reply: {other:?}"),
    };
    wait("the reply's echo", 10, || {
        message(&items.items(), "the reply").is_some()
    });
    let (_, in_reply_to, _) = message(&items.items(), "the reply").unwrap();
    assert_eq!(in_reply_to.as_deref(), Some(original.as_str()));
}

/// A message taken back (`cancel_send` says `true`) while its request is in
/// flight is not counted as unsent at a close: matrix-sdk keeps its request
/// with a redaction to follow once it is sent, but the app took it back.
#[test]
fn a_message_taken_back_in_flight_is_not_counted_as_unsent() {
    let _s = serial();
    let held = HeldSend::start("hk-taken", "taken back", Duration::from_secs(10));
    assert!(
        block_on(held.timeline.cancel_send(held.echo.clone())).unwrap(),
        "taken back while in flight"
    );
    let report = block_on(held.alice.client.close(None)).unwrap();
    assert_eq!(report.unsent_messages, 0, "{report:?}");
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
}
