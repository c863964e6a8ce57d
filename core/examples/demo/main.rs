//! `cargo xtask demo`: two users chat over the local Synapse through the chat
//! surface (a live room list, timelines with history, a reply, an edit, a
//! reaction, files both ways, a message sent while the server is
//! unreachable), then the people around them (avatars, a direct message
//! with a formatted mention, a muted room the push gateway never hears
//! from, the member list); then alice logs out with everything open and the
//! report shows what the drain did, step by step.

#[path = "../../tests/support/homeserver.rs"]
mod homeserver;
mod people;
#[path = "../../tests/support/push_gateway.rs"]
mod push_gateway;
mod screens;

use futures_executor::block_on;
use matrix_mobile_core::{
    runtime_stats, shutdown, Client, ClientConfig, CoreError, LogoutOptions, MessageContent,
    RoomListOptions, RoomSummary, SendState, ShutdownOptions, TimelineItem, TimelineItemKind,
};
use screens::{print_report, row, wait, Screen};

const PASSWORD: &str = "demo password 1";

fn storage(e: std::io::Error) -> CoreError {
    CoreError::Storage {
        detail: e.to_string(),
    }
}

/// The media source of the first file message in `items`.
fn file_in(items: &[TimelineItem], name: &str) -> Option<matrix_mobile_core::MediaSource> {
    items.iter().find_map(|i| match &i.kind {
        TimelineItemKind::Event {
            content: MessageContent::Media { body, source, .. },
            ..
        } if body == name => Some(source.clone()),
        _ => None,
    })
}

fn has_text(items: &[TimelineItem], text: &str) -> bool {
    items.iter().filter_map(row).any(|r| r.contains(text))
}

fn main() -> Result<(), CoreError> {
    let url = homeserver::url();
    let base = tempfile::TempDir::new().map_err(storage)?;
    let alice_name = homeserver::fresh_name("alice");
    let bob_name = homeserver::fresh_name("bob");
    println!("1. Synapse runs at {url}; registering {alice_name} and {bob_name}");
    homeserver::register(&alice_name, PASSWORD);
    homeserver::register(&bob_name, PASSWORD);
    // Alice reaches the server through a proxy that the demo can cut, as a
    // phone loses its network.
    let network = homeserver::FaultProxy::start();
    let config = |who: &str, server: &str| ClientConfig {
        homeserver_url: server.to_owned(),
        data_dir: base.path().join(who).to_string_lossy().into_owned(),
        store_passphrase: Some(format!("{who} store passphrase")),
        store_key: None,
        request_timeout_ms: 30_000,
        additional_root_certificates: Vec::new(),
        shared_with_other_processes: None,
    };

    println!("2. alice and bob log in and sync; bob watches his room list");
    let alice = block_on(Client::create(config("alice", &network.url)))?;
    let bob = block_on(Client::create(config("bob", &url)))?;
    block_on(alice.login(alice_name, PASSWORD.into(), Some("demo phone".into())))?;
    let bob_session = block_on(bob.login(bob_name, PASSWORD.into(), Some("demo tablet".into())))?;
    block_on(alice.start_sync())?;
    block_on(bob.start_sync())?;
    let bob_rooms = Screen::<RoomSummary>::new("bob's room list");
    let _rooms = bob.observe_room_list(RoomListOptions::default(), bob_rooms.clone())?;

    println!("3. alice creates a room, invites bob and writes 25 messages; bob accepts");
    let room = block_on(alice.create_room("demo".into(), vec![bob_session.user_id], true))?;
    for i in 1..=25 {
        block_on(alice.send_text(room.clone(), format!("history #{i}")))?;
    }
    wait("the invite", || bob.room(room.clone()).is_ok())?;
    block_on(bob.join_room(room.clone()))?;

    println!("4. both open the room's timeline; bob paginates back to its start");
    let alice_timeline = block_on(alice.timeline(room.clone()))?;
    let bob_timeline = block_on(bob.timeline(room.clone()))?;
    let alice_screen = Screen::<TimelineItem>::new("alice's timeline");
    let bob_screen = Screen::<TimelineItem>::new("bob's timeline");
    let _a = alice_timeline.observe(alice_screen.clone())?;
    let _b = bob_timeline.observe(bob_screen.clone())?;
    let mut pages = 0;
    while !block_on(bob_timeline.paginate_backwards(10))? {
        pages += 1;
    }
    wait("the history", || {
        has_text(&bob_screen.items(), "history #1")
    })?;
    let history = bob_screen
        .items()
        .iter()
        .filter_map(row)
        .filter(|r| r.contains("history #"))
        .count();
    println!("    {pages} pages back: {history} messages of history, the room's start reached");

    println!("5. bob writes; alice replies, edits her reply and reacts");
    block_on(bob_timeline.send_text("hi alice, history looks fine".into(), None))?;
    wait("alice sees bob", || {
        has_text(&alice_screen.items(), "history looks fine")
    })?;
    let bobs = alice_screen
        .items()
        .into_iter()
        .find(|i| row(i).is_some_and(|r| r.contains("history looks fine")))
        .expect("waited for above");
    let bobs_event = match &bobs.kind {
        TimelineItemKind::Event { event_id, .. } => event_id.clone(),
        _ => None,
    };
    block_on(alice_timeline.send_text("thanks bob".into(), bobs_event))?;
    wait("the reply", || {
        has_text(&alice_screen.items(), "thanks bob")
    })?;
    let reply = alice_screen
        .items()
        .into_iter()
        .find(|i| row(i).is_some_and(|r| r.contains("thanks bob")))
        .expect("waited for above");
    block_on(alice_timeline.edit(reply.item_id, "thanks, bob!".into()))?;
    block_on(alice_timeline.toggle_reaction(bobs.item_id, "👍".into()))?;
    wait("bob sees the edit and the reaction", || {
        let rows: Vec<String> = bob_screen.items().iter().filter_map(row).collect();
        rows.iter().any(|r| r.contains("thanks, bob! (edited)"))
            && rows.iter().any(|r| r.contains("[👍 1]"))
    })?;

    println!("6. a file each way, encrypted in this room, downloaded and compared");
    let files = tempfile::TempDir::new().map_err(storage)?;
    let notes = files.path().join("notes.txt");
    std::fs::write(&notes, "alice's notes\n".repeat(100)).map_err(storage)?;
    let photo = files.path().join("photo.png");
    std::fs::write(&photo, [0x89u8, b'P', b'N', b'G'].repeat(500)).map_err(storage)?;
    block_on(alice_timeline.send_file(notes.to_string_lossy().into(), None, None, None))?;
    block_on(bob_timeline.send_file(photo.to_string_lossy().into(), None, None, None))?;
    wait("both files", || {
        file_in(&bob_screen.items(), "notes.txt").is_some()
            && file_in(&alice_screen.items(), "photo.png").is_some()
    })?;
    let got_notes = files.path().join("notes (bob).txt");
    let got_photo = files.path().join("photo (alice).png");
    let notes_source = file_in(&bob_screen.items(), "notes.txt").expect("waited for above");
    let photo_source = file_in(&alice_screen.items(), "photo.png").expect("waited for above");
    let n = block_on(bob.download_media(notes_source, got_notes.to_string_lossy().into()))?;
    let p = block_on(alice.download_media(photo_source, got_photo.to_string_lossy().into()))?;
    let same =
        |a: &std::path::Path, b: &std::path::Path| std::fs::read(a).ok() == std::fs::read(b).ok();
    println!(
        "    bob got notes.txt ({n} bytes, identical: {}), alice got photo.png ({p} bytes, identical: {})",
        same(&notes, &got_notes),
        same(&photo, &got_photo)
    );

    println!("7. alice loses her network and writes anyway; the message goes out when it is back");
    network.die();
    block_on(alice_timeline.send_text("written in the tunnel".into(), None))?;
    wait("the local echo", || {
        has_text(&alice_screen.items(), "tunnel")
    })?;
    let sending = alice_screen
        .items()
        .iter()
        .filter_map(row)
        .find(|r| r.contains("tunnel"));
    println!("    while offline, alice's timeline shows: {sending:?}");
    std::thread::sleep(std::time::Duration::from_secs(2));
    network.set(homeserver::Fault::Pass);
    wait("the offline message to reach bob", || {
        has_text(&bob_screen.items(), "written in the tunnel")
    })?;
    wait("alice's echo to be sent", || {
        alice_screen.items().iter().any(|i| {
            row(i).is_some_and(|r| r.contains("tunnel"))
                && matches!(
                    &i.kind,
                    TimelineItemKind::Event {
                        send_state: Some(SendState::Sent { .. }),
                        ..
                    } | TimelineItemKind::Event {
                        send_state: None,
                        event_id: Some(_),
                        ..
                    }
                )
        })
    })?;
    println!("    back online: alice's echo is sent, and bob has it");
    // Sync failed while the network was gone; the core starts it again.
    wait("alice's sync to recover", || {
        alice.sync_state() == matrix_mobile_core::SyncState::Running
    })?;
    println!("    alice's sync, failed while offline, runs again by itself");
    println!("    bob's timeline ends with:");
    let rows: Vec<String> = bob_screen.items().iter().filter_map(row).collect();
    for r in rows.iter().skip(rows.len().saturating_sub(7)) {
        println!("      {r}");
    }

    println!("8. names and avatars, a DM with a mention, a muted room, the members");
    people::step(&alice, &bob, &room, files.path())?;

    println!("9. alice logs out with her timeline open and bob online; the report:");
    let report = block_on(alice.logout(LogoutOptions::default(), None))?;
    print_report(&report);
    println!(
        "    alice's timeline ended: {}; a call on it now: {:?}",
        alice_screen.closed(),
        block_on(alice_timeline.paginate_backwards(1)).err()
    );

    println!("10. shutdown(): closes bob too, stops every task, joins the runtime's threads");
    let report = block_on(shutdown(ShutdownOptions { timeout_ms: 5000 }))?;
    println!("  clients closed:   {}", report.clients_closed);
    println!("  tasks drained:    {}", report.tasks_drained);
    println!("  tasks abandoned:  {:?}", report.tasks_abandoned);
    println!("  total:            {} ms", report.total_ms);
    let stats = runtime_stats();
    println!(
        "  after: state {:?}, alive tasks {}, live clients {}; bob's screens ended: {} {}",
        stats.state,
        stats.alive_tasks,
        stats.live_clients,
        bob_rooms.closed(),
        bob_screen.closed()
    );
    Ok(())
}
