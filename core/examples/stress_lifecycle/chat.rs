//! The chat surface in the workload: a worker opens the run's room's
//! timeline, observes it (its listener may block or panic), paginates,
//! sends and uploads into it, observes the room list and changes its
//! filter; then it
//! releases all of it at once, or leaves it open until the end of the
//! iteration, so that drains, releases and shutdowns meet open timelines,
//! room lists and queued messages.

use std::any::Any;
use std::sync::{Arc, Mutex};

use crate::api::{Client, RoomListFilter, RoomListOptions, UploadInfo};
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

impl Worker<'_> {
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
            self.run.held.keep(Box::new((timeline, items, list, probe)));
        } else {
            self.call_sync(Op::Release, move || {
                drop((items, list, timeline));
                Ok(())
            });
            probe.cancel_returned();
        }
    }
}
