//! [`RoomListHandle`]: a live room list of a [`ClientCore`], fed by one
//! supervised task of the client.
//!
//! The task owns matrix-sdk-ui's list and its stream; the handle only sends
//! it commands. Cancelling or dropping the handle ends the task; the client's
//! end sends the listener `on_closed()` as its last call.

use std::sync::Arc;

use tokio::sync::mpsc::{self, UnboundedSender};

use super::feed::ListFeed;
use super::followed::EndSignal;
use super::subscription::Subscription;
use super::ClientCore;
use crate::api::{
    CoreError, CoreResult, RoomListFilter, RoomListListener, RoomListOptions, RoomListUpdate,
};
use crate::matrix::room_list::{self, Command};
use crate::supervisor::TaskKind;

/// A live room list. `set_filter` resets it, `load_more` adds a page;
/// `cancel()` or dropping it stops it.
#[derive(uniffi::Object)]
pub struct RoomListHandle {
    subscription: Arc<Subscription>,
    commands: UnboundedSender<Command>,
}

#[uniffi::export]
impl RoomListHandle {
    /// Shows the rooms that `filter` lets through; the listener gets a `Reset`.
    pub fn set_filter(&self, filter: RoomListFilter) {
        let _ = self.commands.send(Command::SetFilter(filter));
    }

    /// Adds a page of rooms, if the account has more.
    pub fn load_more(&self) {
        let _ = self.commands.send(Command::LoadMore);
    }

    /// Stops the list. Idempotent; waits at most 100 ms for a call in progress.
    pub fn cancel(&self) {
        self.subscription.cancel();
    }
}

impl ClientCore {
    /// Starts a live room list for `listener`: every room of the account,
    /// newest activity first, a `Reset` first.
    pub(crate) fn observe_room_list(
        self: &Arc<Self>,
        options: RoomListOptions,
        listener: Arc<dyn RoomListListener>,
    ) -> CoreResult<Arc<RoomListHandle>> {
        if options.page_size == 0 {
            return Err(CoreError::invalid_argument("page_size must be at least 1"));
        }
        let sdk = self.sdk_with_stores()?;
        let (commands, receiver) = mpsc::unbounded_channel();
        let core = Arc::downgrade(self);
        let end: EndSignal<dyn RoomListListener> =
            ("RoomListListener.on_closed", |l| l.on_closed());
        let task = ("room-list", TaskKind::Fallible);
        let subscription = self.follow_for(listener, end, task, |delivery| async move {
            let Some(core) = core.upgrade() else {
                return Ok(());
            };
            let sync = core.sync_service(&sdk).await.map_err(|e| e.to_string())?;
            drop((core, sdk));
            let rooms = room_list::service(&sync);
            drop(sync);
            let feed = ListFeed::<dyn RoomListListener, _>::new(
                &delivery,
                "RoomListListener.on_update",
                |u| matches!(u, RoomListUpdate::Reset { .. }),
                |l, updates| l.on_update(updates),
            );
            room_list::run(
                rooms,
                options.page_size,
                options.filter,
                receiver,
                |updates| feed.post(updates),
                || feed.lagging(),
            )
            .await
        })?;
        Ok(Arc::new(RoomListHandle {
            subscription,
            commands,
        }))
    }
}
