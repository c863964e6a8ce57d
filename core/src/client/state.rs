//! The one function that moves a [`ClientState`], tested as a table.

use crate::api::{ClientState, CoreError, CoreResult};

/// Something that asks the client to change state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// `login` or `restore` succeeded.
    SessionStarted,
    /// `logout` begins.
    BeginLogout,
    /// `close` begins (also a release by the app and `shutdown`).
    BeginClose,
    /// The logout or close drain ended.
    Drained,
}

/// The transition table of a client. Pure: no I/O, no locks.
pub fn next_state(state: ClientState, transition: Transition) -> CoreResult<ClientState> {
    use ClientState::*;
    use Transition::*;
    match (state, transition) {
        (Created, SessionStarted) => Ok(LoggedIn),
        (LoggedIn, SessionStarted) => Err(CoreError::invalid_state("a session is already active")),
        (LoggedIn, BeginLogout) => Ok(LoggingOut),
        (Created, BeginLogout) => Err(CoreError::invalid_state("there is no session to log out")),
        (Created | LoggedIn, BeginClose) => Ok(Closing),
        (LoggingOut, Drained) => Ok(Closed),
        (Closing, Drained) => Ok(Closed),
        (LoggingOut, _) => Err(CoreError::busy("logout")),
        (Closing, _) => Err(CoreError::busy("close")),
        (Closed, _) => Err(CoreError::ClientClosed),
        (Created | LoggedIn, Drained) => Err(CoreError::invalid_state("no drain is in progress")),
    }
}

/// Whether ordinary operations (sync, rooms, messages) may run in `state`.
pub fn check_usable(state: ClientState) -> CoreResult<()> {
    match state {
        ClientState::Created | ClientState::LoggedIn => Ok(()),
        ClientState::LoggingOut => Err(CoreError::busy("logout")),
        ClientState::Closing => Err(CoreError::busy("close")),
        ClientState::Closed => Err(CoreError::ClientClosed),
    }
}

#[cfg(test)]
mod tests {
    use super::ClientState::*;
    use super::Transition::*;
    use super::*;

    #[test]
    fn transition_table() {
        let busy_logout = Err(CoreError::busy("logout"));
        let busy_close = Err(CoreError::busy("close"));
        let cases = [
            (Created, SessionStarted, Ok(LoggedIn)),
            (Created, BeginClose, Ok(Closing)),
            (LoggedIn, BeginLogout, Ok(LoggingOut)),
            (LoggedIn, BeginClose, Ok(Closing)),
            (LoggingOut, Drained, Ok(Closed)),
            (Closing, Drained, Ok(Closed)),
            (LoggingOut, BeginLogout, busy_logout.clone()),
            (LoggingOut, BeginClose, busy_logout.clone()),
            (LoggingOut, SessionStarted, busy_logout),
            (Closing, BeginLogout, busy_close.clone()),
            (Closing, SessionStarted, busy_close),
            (Closed, BeginLogout, Err(CoreError::ClientClosed)),
            (Closed, BeginClose, Err(CoreError::ClientClosed)),
            (Closed, SessionStarted, Err(CoreError::ClientClosed)),
        ];
        for (from, transition, expected) in cases {
            assert_eq!(
                next_state(from, transition),
                expected,
                "{from:?} --{transition:?}-->"
            );
        }
        assert!(matches!(
            next_state(Created, BeginLogout),
            Err(CoreError::InvalidState { .. })
        ));
        assert!(matches!(
            next_state(LoggedIn, SessionStarted),
            Err(CoreError::InvalidState { .. })
        ));
        assert!(matches!(
            next_state(LoggedIn, Drained),
            Err(CoreError::InvalidState { .. })
        ));
    }

    #[test]
    fn closed_client_is_unusable() {
        assert_eq!(check_usable(Closed), Err(CoreError::ClientClosed));
        assert_eq!(check_usable(Closing), Err(CoreError::busy("close")));
        assert_eq!(check_usable(LoggedIn), Ok(()));
    }
}
