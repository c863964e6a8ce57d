//! The chat surface in the workload: a worker opens the run's room's
//! timeline, observes it (its listener may block or panic), paginates,
//! sends and uploads into it, observes the room list and changes its
//! filter; then it
//! releases all of it at once, or leaves it open until the end of the
//! iteration, so that drains, releases and shutdowns meet open timelines,
//! room lists and queued messages.

use std::any::Any;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::api::{
    Client, ClientState, OutgoingKind, OutgoingMessage, RoomListFilter, RoomListOptions,
    RoomNotificationMode, SyncState, Timeline, UploadInfo,
};
use crate::listeners::Probe;
use crate::ops::Op;
use crate::workload::Worker;

/// What workers left open until the end of the iteration.
#[derive(Default)]
pub struct Held(Mutex<Vec<Box<dyn Any + Send>>>);

impl Held {
    fn keep(&self, what: Box<dyn Any + Send>) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(what);
    }

    /// Releases everything held (the app lets go of its screens).
    pub fn release_all(&self) {
        let held = std::mem::take(&mut *self.0.lock().unwrap_or_else(|p| p.into_inner()));
        drop(held);
    }
}

/// How long a visit waits for sync to bring the run's room.
const ROOM_WAIT: Duration = Duration::from_secs(5);

impl Worker<'_> {
    /// A scripted visit to slot `j`: the client created and signed in if need
    /// be (restored on the session its stores hold, else logged in), syncing
    /// until the run's room is known, then one chat screen. Its calls are
    /// judged like every other (allowed errors, bounds).
    pub(crate) fn visit(&mut self, j: usize) {
        if self.client(j).is_none() {
            self.create(j);
        }
        let Some(client) = self.client(j) else {
            return;
        };
        if client.state() == ClientState::Created {
            // Read apart from the match: `login` takes the homes' lock too.
            let kept = self.run.homes.get(j).session.clone();
            match kept {
                Some(session) => {
                    self.call(Op::Restore, client.restore(session), false);
                }
                None => self.login(j, &client, true),
            }
        }
        if client.state() != ClientState::LoggedIn {
            return;
        }
        if client.sync_state() != SyncState::Running {
            self.call(Op::StartSync, client.start_sync(), false);
        }
        let deadline = Instant::now() + ROOM_WAIT;
        while client.room(self.run.room_id.clone()).is_err() && Instant::now() < deadline {
            // Sync has no notification for one room's arrival here.
            std::thread::sleep(Duration::from_millis(20));
        }
        self.chat(&client);
    }

    /// The rest of a chat app, now and then: a formatted message that
    /// mentions the user, the member list, the room's notification mode.
    fn people(&mut self, client: &Arc<Client>, timeline: &Arc<Timeline>) {
        let room = self.run.room_id.clone();
        if self.rng.chance(0.4) {
            let message = OutgoingMessage {
                body: format!("**bold** {}", self.iteration),
                markdown: true,
                kind: OutgoingKind::Text,
                mentions: client.user_id().into_iter().collect(),
                mention_room: false,
            };
            self.call(Op::SendMessage, timeline.send_message(message, None), true);
        }
        if self.rng.chance(0.4) {
            self.call(Op::Members, client.members(room.clone()), true);
        }
        if self.rng.chance(0.3) {
            let modes = [
                Some(RoomNotificationMode::Mute),
                Some(RoomNotificationMode::MentionsAndKeywordsOnly),
                None,
            ];
            match modes[self.rng.range(0, 2) as usize] {
                Some(mode) => {
                    let set = client.set_room_notification_mode(room, mode);
                    self.call(Op::NotificationMode, set, true);
                }
                None => {
                    let reset = client.reset_room_notification_mode(room);
                    self.call(Op::NotificationMode, reset, true);
                }
            }
        }
    }

    /// One chat screen's worth of calls on `client`.
    pub(crate) fn chat(&mut self, client: &Arc<Client>) {
        let room = self.run.room_id.clone();
        let Some(timeline) = self.call(Op::OpenTimeline, client.timeline(room), true) else {
            return;
        };
        let probe = Probe::new(client, self.rng.chance(0.5), false, self.iteration);
        match self.rng.range(0, 9) {
            0 => probe.block_for(self.rng.millis(50, 800)),
            1 => probe.panic_in_calls(),
            _ => {}
        }
        let listener = probe.clone();
        let items = self.call_sync(Op::ObserveTimeline, || timeline.observe(listener));
        if self.rng.chance(0.5) {
            let events = self.rng.range(1, 30) as u16;
            self.call(Op::Paginate, timeline.paginate_backwards(events), true);
        }
        if self.rng.chance(0.6) {
            let body = format!("chat {} {}", self.iteration, self.rng.next() % 1000);
            self.call(Op::TimelineSend, timeline.send_text(body, None), true);
        }
        if self.rng.chance(0.7) {
            let file = self.run.upload_file();
            let upload = timeline.send_media(file, UploadInfo::default(), None);
            self.call(Op::Upload, upload, true);
        }
        if let Some(image) = self.run.image.clone() {
            if self.rng.chance(0.5) {
                // One of three sizes: most calls after the first of each
                // size are answered from the media store.
                let side = [32, 48, 64][self.rng.range(0, 2) as usize];
                let dest = self.run.root.join(format!(
                    "thumbnail-{}-{}",
                    self.iteration,
                    self.rng.next() % 1_000_000
                ));
                let download =
                    client.download_thumbnail(image, side, side, dest.to_string_lossy().into());
                self.call(Op::Thumbnail, download, true);
            }
        }
        let room_probe = probe.clone();
        let followed = self.rng.chance(0.5).then(|| {
            let room = self.run.room_id.clone();
            self.call_sync(Op::ObserveRoom, || client.observe_room(room, room_probe))
        });
        self.people(client, &timeline);
        let list = self.rng.chance(0.5).then(|| {
            let options = RoomListOptions {
                page_size: self.rng.range(1, 20) as u32,
                filter: RoomListFilter::All,
            };
            let listener = probe.clone();
            self.call_sync(Op::ObserveRoomList, || {
                let handle = client.observe_room_list(options, listener)?;
                handle.set_filter(RoomListFilter::NameMatches {
                    pattern: "stress".into(),
                });
                handle.load_more();
                Ok(handle)
            })
        });
        std::thread::sleep(self.rng.millis(0, 100));
        if self.rng.chance(0.5) {
            self.run
                .held
                .keep(Box::new((timeline, items, list, followed, probe)));
        } else {
            self.call_sync(Op::Release, move || {
                drop((items, list, followed, timeline));
                Ok(())
            });
            probe.cancel_returned();
        }
    }
}
