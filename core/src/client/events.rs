//! [`MessageHub`]: text messages from sync, fanned out to message listeners.

use std::sync::{Arc, Mutex};

use matrix_sdk::ruma::events::room::message::OriginalSyncRoomMessageEvent;
use matrix_sdk::ruma::events::AnySyncTimelineEvent;
use matrix_sdk::Room;
use tokio::sync::mpsc;

use crate::ffi::listeners::{guard_listener, MessageListener};
use crate::ffi::records::Message;
use crate::ffi::subscription::Delivery;
use crate::matrix::rooms::text_message;

type Listeners = Vec<(Arc<Delivery>, Arc<dyn MessageListener>)>;

/// Receives messages from matrix-sdk's event handler and delivers them from
/// one supervised task, so that a slow listener never stalls sync.
pub(crate) struct MessageHub {
    listeners: Mutex<Listeners>,
    sender: mpsc::UnboundedSender<Message>,
    receiver: Mutex<Option<mpsc::UnboundedReceiver<Message>>>,
}

impl Default for MessageHub {
    fn default() -> Self {
        let (sender, receiver) = mpsc::unbounded_channel();
        Self {
            listeners: Mutex::new(Vec::new()),
            sender,
            receiver: Mutex::new(Some(receiver)),
        }
    }
}

impl MessageHub {
    /// Registers the event handler; it holds only a channel sender.
    pub(crate) fn attach(&self, sdk: &matrix_sdk::Client) {
        let sender = self.sender.clone();
        sdk.add_event_handler(move |event: OriginalSyncRoomMessageEvent, room: Room| {
            let sender = sender.clone();
            async move {
                let any = AnySyncTimelineEvent::MessageLike(
                    matrix_sdk::ruma::events::AnySyncMessageLikeEvent::RoomMessage(
                        matrix_sdk::ruma::events::SyncMessageLikeEvent::Original(event),
                    ),
                );
                if let Some(message) = text_message(room.room_id().as_str(), &any) {
                    let _ = sender.send(message);
                }
            }
        });
    }

    pub(crate) fn add(&self, delivery: Arc<Delivery>, listener: Arc<dyn MessageListener>) {
        self.lock().push((delivery, listener));
    }

    /// Forgets every listener (the client is draining).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Listeners> {
        self.listeners.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Delivers until the hub's sender side is gone or the task is dropped.
    pub(crate) async fn run(&self) {
        let Some(mut receiver) = self
            .receiver
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        else {
            return;
        };
        while let Some(message) = receiver.recv().await {
            let listeners: Listeners = {
                let mut all = self.lock();
                all.retain(|(d, _)| !d.is_cancelled());
                all.clone()
            };
            for (delivery, listener) in listeners {
                let message = message.clone();
                delivery.deliver(|| {
                    guard_listener("MessageListener.on_message", || {
                        listener.on_message(message)
                    });
                });
            }
        }
    }
}
