//! The people around the user: room members and their power
//! ([`members`]), profiles and the user directory ([`profiles`]), ignoring
//! and reporting ([`safety`]), and the account's own devices ([`devices`]).

pub(crate) mod devices;
pub(crate) mod members;
pub(crate) mod profiles;
pub(crate) mod safety;

/// An avatar's record, for an unencrypted `mxc://` URI.
fn avatar_of(url: Option<&matrix_sdk::ruma::MxcUri>) -> Option<crate::api::MediaSource> {
    url.and_then(|u| crate::matrix::media::source_of_url(u.as_str()))
}
