//! The chat surface against the real Synapse: the room list, a timeline
//! with local echo, replies, edits, reactions, history, typing and files,
//! and the lifecycle guarantees with all of it open.

#[path = "support/homeserver.rs"]
mod homeserver;
#[path = "support/mirror.rs"]
mod mirror;
#[path = "support/session.rs"]
mod session;

#[path = "chat/compose.rs"]
mod compose;
#[path = "chat/offline.rs"]
mod offline;
#[path = "chat/reactions.rs"]
mod reactions;
#[path = "chat/surface.rs"]
mod surface;
#[path = "chat/windowing.rs"]
mod windowing;

use std::sync::{Arc, Mutex, MutexGuard};

use futures_executor::block_on;
use matrix_mobile_core::{
    runtime_stats, CoreError, LogoutOptions, MemberChange, Membership, MessageContent, PreviewKind,
    RoomListFilter, RoomListListener, RoomListOptions, RoomListUpdate, RoomSummary, SendState,
    TimelineItem, TimelineItemKind, TimelineListener, TimelineUpdate, TypingListener,
};
use mirror::Mirror;
use session::{logged_in, wait};

fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Default)]
struct Typing {
    seen: Mutex<Vec<Vec<String>>>,
    closed: Mutex<u32>,
}

impl TypingListener for Typing {
    fn on_typing(&self, user_ids: Vec<String>) {
        self.seen.lock().unwrap().push(user_ids);
    }
    fn on_closed(&self) {
        *self.closed.lock().unwrap() += 1;
    }
}

/// The event items of a timeline whose text body is `body`.
fn texts(items: &[TimelineItem]) -> Vec<(String, String, Option<SendState>, bool)> {
    items
        .iter()
        .filter_map(|i| match &i.kind {
            TimelineItemKind::Event {
                content: MessageContent::Text { body, .. },
                send_state,
                edited,
                ..
            } => Some((i.item_id.clone(), body.clone(), send_state.clone(), *edited)),
            _ => None,
        })
        .collect()
}

fn event_of<'a>(items: &'a [TimelineItem], body: &str) -> Option<&'a TimelineItemKind> {
    items.iter().map(|i| &i.kind).find(|k| {
        matches!(k, TimelineItemKind::Event { content: MessageContent::Text { body: b, .. }, .. } if b == body)
    })
}

fn item_id_of(items: &[TimelineItem], body: &str) -> String {
    texts(items)
        .into_iter()
        .find(|(_, b, _, _)| b == body)
        .map(|(id, ..)| id)
        .unwrap_or_else(|| panic!("no item with body {body:?}"))
}

fn event_id_of(items: &[TimelineItem], body: &str) -> String {
    match event_of(items, body) {
        Some(TimelineItemKind::Event {
            event_id: Some(id), ..
        }) => id.clone(),
        other => panic!("no remote event with body {body:?}: {other:?}"),
    }
}

#[test]
fn a_timeline_shows_local_echo_replies_edits_reactions_and_history() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("chat-alice");
    let (bob, _bob_session, _bob_dir) = logged_in("chat-bob");
    let bob_id = bob.user_id().unwrap();
    let room_id = block_on(alice.create_room("chat".into(), vec![bob_id.clone()], false)).unwrap();
    // 30 messages of history before the timeline opens.
    for i in 0..30 {
        block_on(alice.send_text(room_id.clone(), format!("history {i}"))).unwrap();
    }
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let mirror = Mirror::<TimelineItem>::new();
    let _sub = timeline.observe(mirror.clone()).unwrap();
    wait("the first Reset", 10, || {
        mirror.first_was_reset.lock().unwrap().is_some()
    });
    assert_eq!(*mirror.first_was_reset.lock().unwrap(), Some(true));

    // Back through history to the room's start.
    let mut at_start = false;
    for _ in 0..20 {
        if block_on(timeline.paginate_backwards(20)).unwrap() {
            at_start = true;
            break;
        }
    }
    assert!(at_start, "pagination never reached the start of the room");
    wait("all 30 history messages", 10, || {
        texts(&mirror.items())
            .iter()
            .filter(|(_, b, ..)| b.starts_with("history "))
            .count()
            == 30
    });
    let bodies: Vec<String> = texts(&mirror.items()).into_iter().map(|t| t.1).collect();
    let expected: Vec<String> = (0..30).map(|i| format!("history {i}")).collect();
    assert_eq!(bodies, expected, "history in order, oldest first");
    wait("the timeline start item", 10, || {
        mirror
            .items()
            .iter()
            .any(|i| i.kind == TimelineItemKind::TimelineStart)
    });

    // Local echo: present when send_text returns, shown first as Sending,
    // then Sent under the same item id.
    block_on(timeline.send_text("hello".into(), None)).unwrap();
    let echo = texts(&mirror.items());
    let echo_id = {
        // The listener may not have been called yet; wait for the echo.
        wait("the local echo", 5, || {
            event_of(&mirror.items(), "hello").is_some()
        });
        item_id_of(&mirror.items(), "hello")
    };
    drop(echo);
    wait("the echo to be sent", 15, || {
        matches!(
            event_of(&mirror.items(), "hello"),
            Some(TimelineItemKind::Event {
                send_state: Some(SendState::Sent { .. }),
                ..
            }) | Some(TimelineItemKind::Event {
                send_state: None,
                event_id: Some(_),
                ..
            })
        )
    });
    assert_eq!(
        item_id_of(&mirror.items(), "hello"),
        echo_id,
        "item id kept"
    );
    // The echo was shown as Sending before the server had it.
    let states: Vec<Option<SendState>> = mirror
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter_map(|i| match &i.kind {
            TimelineItemKind::Event {
                content: MessageContent::Text { body, .. },
                send_state,
                ..
            } if body == "hello" => Some(send_state.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(
        states.first(),
        Some(&Some(SendState::Sending)),
        "{states:?}"
    );
    let hello_event = event_id_of(&mirror.items(), "hello");

    // A reply, an edit and a reaction.
    block_on(timeline.send_text("a reply".into(), Some(hello_event.clone()))).unwrap();
    wait("the reply", 15, || {
        matches!(event_of(&mirror.items(), "a reply"),
            Some(TimelineItemKind::Event { in_reply_to: Some(id), .. }) if *id == hello_event)
    });
    block_on(timeline.edit(echo_id.clone(), "hello, edited".into())).unwrap();
    wait("the edit", 15, || {
        texts(&mirror.items())
            .iter()
            .any(|(id, b, _, edited)| *id == echo_id && b == "hello, edited" && *edited)
    });
    block_on(timeline.toggle_reaction(echo_id.clone(), "👍".into())).unwrap();
    wait("the reaction", 15, || {
        mirror.items().iter().any(|i| {
            i.item_id == echo_id
                && matches!(&i.kind, TimelineItemKind::Event { reactions, .. }
                    if reactions.iter().any(|r| r.key == "👍" && r.count == 1 && r.by_me))
        })
    });
    block_on(timeline.toggle_reaction(echo_id.clone(), "👍".into())).unwrap();
    wait("the reaction taken back", 15, || {
        mirror.items().iter().any(|i| {
            i.item_id == echo_id
                && matches!(&i.kind, TimelineItemKind::Event { reactions, .. } if reactions.is_empty())
        })
    });

    // Bad input is a typed error.
    assert!(matches!(
        block_on(timeline.edit("no-such-item".into(), "x".into())),
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        block_on(timeline.send_text(String::new(), None)),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        block_on(timeline.paginate_backwards(0)),
        Err(CoreError::InvalidArgument { .. })
    ));
    block_on(timeline.mark_as_read()).unwrap();

    // The logout with the timeline open keeps the guarantees, and ends it.
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert_eq!(mirror.closed(), 1, "on_closed is the end signal");
    assert!(matches!(
        block_on(timeline.paginate_backwards(10)),
        Err(CoreError::ClientClosed)
    ));
    assert!(matches!(
        timeline.observe(Mirror::<TimelineItem>::new()),
        Err(CoreError::ClientClosed)
    ));
    let bob_report = block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
    assert!(bob_report.client_dropped, "{bob_report:?}");
    assert_eq!(bob_report.tasks_left_behind, 0, "{bob_report:?}");
}

#[test]
fn the_room_list_follows_rooms_filters_and_invites() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("list-alice");
    let (bob, _bob_session, _bob_dir) = logged_in("list-bob");
    let bob_id = bob.user_id().unwrap();
    block_on(bob.start_sync()).unwrap();
    let all = Mirror::<RoomSummary>::new();
    let handle = bob
        .observe_room_list(
            RoomListOptions {
                page_size: 50,
                filter: RoomListFilter::All,
            },
            all.clone(),
        )
        .unwrap();
    wait("the first Reset", 10, || {
        all.first_was_reset.lock().unwrap().is_some()
    });
    assert_eq!(*all.first_was_reset.lock().unwrap(), Some(true));

    // An invite shows up as an invite, and joining it makes it joined.
    let alice_id = alice.user_id().unwrap();
    let room_id =
        block_on(alice.create_room("garden".into(), vec![bob_id.clone()], false)).unwrap();
    // Each row's preview comes in parts for the app's own words, beside the
    // English fallback.
    let latest_is = |kind: PreviewKind, sender: &str, english: &str| {
        all.items().iter().any(|r| {
            r.room_id == room_id
                && r.latest
                    .as_ref()
                    .is_some_and(|l| l.kind == kind && l.sender == sender && l.preview == english)
        })
    };
    wait("the invite in the list", 20, || {
        all.items()
            .iter()
            .any(|r| r.room_id == room_id && r.membership == Membership::Invited)
    });
    wait("the invite as the row's preview", 20, || {
        latest_is(PreviewKind::Invite, &alice_id, "invited you")
    });
    let invites = bob.rooms().unwrap();
    assert!(invites
        .iter()
        .any(|r| r.room_id == room_id && r.membership == Membership::Invited));
    block_on(bob.join_room(room_id.clone())).unwrap();
    wait("the room joined in the list", 20, || {
        all.items()
            .iter()
            .any(|r| r.room_id == room_id && r.membership == Membership::Joined)
    });
    let joined = PreviewKind::Member {
        user_id: bob_id.clone(),
        change: MemberChange::Joined,
    };
    wait("the join as the row's preview", 20, || {
        latest_is(joined.clone(), &bob_id, "joined the room")
    });
    block_on(alice.send_text(room_id.clone(), "latest words".into())).unwrap();
    let text = PreviewKind::Text {
        body: "latest words".into(),
    };
    wait("the latest message in the row", 20, || {
        latest_is(text.clone(), &alice_id, "latest words")
    });

    // A filter resets the list; a favourite tag moves the room in.
    handle.set_filter(RoomListFilter::Favourites);
    wait("the favourites to be empty", 10, || all.items().is_empty());
    block_on(bob.set_favourite(room_id.clone(), true)).unwrap();
    wait("the favourite in the list", 20, || {
        all.items()
            .iter()
            .any(|r| r.room_id == room_id && r.is_favourite)
    });
    handle.set_filter(RoomListFilter::NameMatches {
        pattern: "gard".into(),
    });
    wait("the name match", 10, || {
        let items = all.items();
        items.len() == 1 && items[0].room_id == room_id
    });
    assert_eq!(
        bob.room(room_id.clone()).unwrap().name.as_deref(),
        Some("garden")
    );
    assert!(matches!(
        bob.room("!unknown:localhost".into()),
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        bob.observe_room_list(
            RoomListOptions {
                page_size: 0,
                filter: RoomListFilter::All
            },
            Mirror::<RoomSummary>::new()
        ),
        Err(CoreError::InvalidArgument { .. })
    ));

    // A cancelled list hears nothing more, not even the end signal.
    let cancelled = Mirror::<RoomSummary>::new();
    let other = bob
        .observe_room_list(RoomListOptions::default(), cancelled.clone())
        .unwrap();
    wait("the second list's Reset", 10, || {
        cancelled.first_was_reset.lock().unwrap().is_some()
    });
    other.cancel();

    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    let report = block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(report.tasks_left_behind, 0, "{report:?}");
    assert_eq!(all.closed(), 1, "on_closed is the end signal");
    assert_eq!(cancelled.closed(), 0, "a cancelled list gets no end signal");
}

#[test]
fn typing_and_files_go_both_ways() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("file-alice");
    let (bob, _bob_session, _bob_dir) = logged_in("file-bob");
    let bob_id = bob.user_id().unwrap();
    let room_id = block_on(alice.create_room("files".into(), vec![bob_id], true)).unwrap();
    block_on(bob.start_sync()).unwrap();
    wait("bob's invite", 20, || bob.room(room_id.clone()).is_ok());
    block_on(bob.join_room(room_id.clone())).unwrap();
    block_on(alice.start_sync()).unwrap();
    let alice_timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let bob_timeline = block_on(bob.timeline(room_id.clone())).unwrap();
    let bob_items = Mirror::<TimelineItem>::new();
    let _items = bob_timeline.observe(bob_items.clone()).unwrap();
    let typing = Arc::new(Typing::default());
    let _typing = bob_timeline.observe_typing(typing.clone()).unwrap();

    block_on(alice_timeline.set_typing(true)).unwrap();
    let alice_id = alice.user_id().unwrap();
    wait("alice typing", 20, || {
        typing
            .seen
            .lock()
            .unwrap()
            .iter()
            .any(|u| u.contains(&alice_id))
    });

    let dir = tempfile::TempDir::new().unwrap();
    let file = dir.path().join("notes.txt");
    let content = "the notes of the meeting\n".repeat(200);
    std::fs::write(&file, &content).unwrap();
    let progress = Arc::new(Progress::default());
    block_on(alice_timeline.send_file(
        file.to_string_lossy().into_owned(),
        None,
        Some("the notes".into()),
        Some(progress.clone()),
    ))
    .unwrap();
    let source = {
        let mut found = None;
        wait("the file in bob's timeline", 30, || {
            found = bob_items.items().iter().find_map(|i| match &i.kind {
                TimelineItemKind::Event {
                    content:
                        MessageContent::Media {
                            source,
                            mimetype,
                            size,
                            ..
                        },
                    ..
                } => Some((source.clone(), mimetype.clone(), *size)),
                _ => None,
            });
            found.is_some()
        });
        found.unwrap()
    };
    assert!(
        source.0.encrypted,
        "a file in an encrypted room is encrypted"
    );
    assert_eq!(source.1.as_deref(), Some("text/plain"));
    assert_eq!(
        source.2,
        Some(content.len() as u64),
        "the size travels with the file"
    );
    let dest = dir.path().join("downloaded.txt");
    let size =
        block_on(bob.download_media(source.0.clone(), dest.to_string_lossy().into())).unwrap();
    assert_eq!(size as usize, content.len());
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), content);
    assert!(
        progress
            .last
            .lock()
            .unwrap()
            .is_some_and(|(sent, total)| sent == total && total > 0),
        "the upload's progress reached its total"
    );

    // Bad input: a missing file, a tampered source, an unwritable place.
    assert!(matches!(
        block_on(alice_timeline.send_file("/no/such/file".into(), None, None, None)),
        Err(CoreError::InvalidArgument { .. })
    ));
    let mut tampered = source.0.clone();
    tampered.descriptor = "{".into();
    assert!(matches!(
        block_on(bob.download_media(tampered, dest.to_string_lossy().into())),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        block_on(bob.download_media(source.0, "/no/such/dir/x".into())),
        Err(CoreError::InvalidArgument { .. })
    ));

    block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    let report = block_on(bob.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(*typing.closed.lock().unwrap(), 1, "the typing end signal");
    assert_eq!(bob_items.closed(), 1);
}

#[derive(Default)]
struct Progress {
    last: Mutex<Option<(u64, u64)>>,
}

impl matrix_mobile_core::ProgressListener for Progress {
    fn on_progress(&self, sent: u64, total: u64) {
        *self.last.lock().unwrap() = Some((sent, total));
    }
}

#[test]
fn released_timelines_leave_the_task_count_where_it_was() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("release-alice");
    let room_id = block_on(alice.create_room("many".into(), vec![], false)).unwrap();
    block_on(alice.start_sync()).unwrap();
    // One timeline first, so that what every room keeps once (its event
    // cache) is running before the count is taken.
    drop(block_on(alice.timeline(room_id.clone())).unwrap());
    // The timeline's own tasks (the core's, by name).
    let own = || {
        runtime_stats()
            .supervised_tasks
            .iter()
            .filter(|t| t.ends_with("::timeline-items"))
            .count()
    };
    let before = runtime_stats().alive_tasks;
    for _ in 0..50 {
        let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
        let mirror = Mirror::<TimelineItem>::new();
        let sub = timeline.observe(mirror.clone()).unwrap();
        wait("a Reset", 10, || {
            mirror.first_was_reset.lock().unwrap().is_some()
        });
        // One timeline observed: one task delivering its items (the last
        // one's may still be ending).
        wait("this timeline's own task alone", 10, || own() == 1);
        drop(sub);
        drop(timeline);
    }
    wait("every released timeline's own task to end", 10, || {
        own() == 0
    });
    // And matrix-sdk-ui's tasks for them: the runtime's count comes back.
    let mut after = u64::MAX;
    wait("the task count to come back", 10, || {
        after = runtime_stats().alive_tasks;
        after <= before
    });
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert!(report.client_dropped, "{report:?}");
    assert_eq!(report.unsent_messages, 0);
}

/// A timeline listener that paginates from inside `on_update`, and a room
/// list listener that asks for more rooms from inside its own: both run on
/// the core's listener threads, never on a runtime thread, and neither
/// blocks the core.
#[derive(Default)]
struct Reentrant {
    timeline: std::sync::OnceLock<Arc<matrix_mobile_core::Timeline>>,
    rooms: std::sync::OnceLock<Arc<matrix_mobile_core::RoomListHandle>>,
    paginations: Mutex<Vec<Result<bool, String>>>,
    threads: Mutex<Vec<(String, bool)>>,
    /// The room list's rows, kept by its diffs.
    listed: Mutex<Vec<RoomSummary>>,
}

impl Reentrant {
    fn record(&self) {
        let t = std::thread::current();
        self.threads.lock().unwrap().push((
            t.name().unwrap_or("").to_owned(),
            matrix_mobile_core::runtime::on_runtime_thread(),
        ));
    }
}

impl TimelineListener for Reentrant {
    fn on_update(&self, _updates: Vec<TimelineUpdate>) {
        self.record();
        if let Some(timeline) = self.timeline.get() {
            let outcome = block_on(timeline.paginate_backwards(5)).map_err(|e| format!("{e:?}"));
            self.paginations.lock().unwrap().push(outcome);
        }
    }
    fn on_closed(&self) {}
}

impl RoomListListener for Reentrant {
    fn on_update(&self, updates: Vec<RoomListUpdate>) {
        self.record();
        {
            let mut listed = self.listed.lock().unwrap();
            for update in updates {
                mirror::apply(&mut listed, update.into());
            }
        }
        if let Some(rooms) = self.rooms.get() {
            rooms.load_more();
        }
    }
    fn on_closed(&self) {}
}

#[test]
fn listeners_may_paginate_and_load_more_from_their_callbacks() {
    let _serial = serial();
    let (alice, _session, _dir) = logged_in("reentrant-alice");
    let room_id = block_on(alice.create_room("re".into(), vec![], false)).unwrap();
    for name in ["re 2", "re 3"] {
        block_on(alice.create_room(name.into(), vec![], false)).unwrap();
    }
    for i in 0..12 {
        block_on(alice.send_text(room_id.clone(), format!("old {i}"))).unwrap();
    }
    block_on(alice.start_sync()).unwrap();
    let timeline = block_on(alice.timeline(room_id.clone())).unwrap();
    let listener = Arc::new(Reentrant::default());
    let _ = listener.timeline.set(timeline.clone());
    let _sub = timeline.observe(listener.clone()).unwrap();
    let handle = alice
        .observe_room_list(
            RoomListOptions {
                page_size: 1,
                filter: RoomListFilter::All,
            },
            listener.clone(),
        )
        .unwrap();
    let _ = listener.rooms.set(handle.clone());
    wait("paginations from inside the listener", 30, || {
        let p = listener.paginations.lock().unwrap();
        p.iter().any(|r| matches!(r, Ok(true)))
    });
    // Pages of one room: only the listener's own load_more calls list all three.
    wait("load_more from inside the listener", 30, || {
        listener.listed.lock().unwrap().len() == 3
    });
    let paginations = listener.paginations.lock().unwrap().clone();
    assert!(
        paginations.iter().all(|r| r.is_ok()),
        "a pagination from the listener failed: {paginations:?}"
    );
    let threads = listener.threads.lock().unwrap().clone();
    assert!(!threads.is_empty());
    for (name, on_runtime) in &threads {
        assert!(name.starts_with("mmc-listeners"), "{threads:?}");
        assert!(!on_runtime, "{threads:?}");
    }
    // The logout is not held up by listeners that call back into the core.
    let report = block_on(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert_eq!(report.store_files_open_after, Some(0), "{report:?}");
    drop(handle);
}
