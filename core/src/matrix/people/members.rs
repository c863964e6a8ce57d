//! A room's members, with their power, and the moderator's actions on them.

use matrix_sdk::room::RoomMember;
use matrix_sdk::ruma::events::room::member::MembershipState;
use matrix_sdk::ruma::events::room::power_levels::UserPowerLevel;
use matrix_sdk::RoomMemberships;

use crate::api::{CoreError, CoreResult, Member, MemberRole, Membership};
use crate::matrix::errors;
use crate::matrix::rooms::{joined_room, parse_user_id};

/// The joined and invited members of the joined room `room_id`. The first
/// call loads them from the server (sync carries them lazily); later ones
/// read the store, kept current by sync.
///
/// The call takes `bound` at most, or fails with `Timeout`: matrix-sdk
/// loads members with a request configuration of its own (60 s a try, up
/// to four tries), not the client's timeout, and a call waits for another
/// call's load of the same room first (and loads anew when that one
/// failed). A load given up this way is not remembered as done: the next
/// call loads again.
pub(crate) async fn members(
    client: &matrix_sdk::Client,
    room_id: &str,
    bound: std::time::Duration,
) -> CoreResult<Vec<Member>> {
    let room = joined_room(client, room_id)?;
    let load = async {
        loop {
            match room
                .members(RoomMemberships::JOIN | RoomMemberships::INVITE)
                .await
            {
                // Another call's load, which this one waited for, failed:
                // load anew, and answer with this call's own outcome.
                Err(matrix_sdk::Error::ConcurrentRequestFailed) => continue,
                other => return other,
            }
        }
    };
    let members = tokio::time::timeout(bound, load)
        .await
        .map_err(|_| CoreError::timeout(format!("loading the members of {room_id}")))?
        .map_err(|e| errors::from_sdk(&e))?;
    Ok(members.iter().map(member).collect())
}

fn member(m: &RoomMember) -> Member {
    let (power_level, role) = power(m.power_level());
    Member {
        user_id: m.user_id().to_string(),
        display_name: m.display_name().map(str::to_owned),
        avatar: super::avatar_of(m.avatar_url()),
        membership: membership(m.membership()),
        power_level,
        role,
    }
}

/// A power level as a number and a role. A room version 12 creator's power
/// has no bound: `i64::MAX`, an administrator.
fn power(level: UserPowerLevel) -> (i64, MemberRole) {
    let level = match level {
        UserPowerLevel::Int(n) => i64::from(n),
        _ => i64::MAX,
    };
    let role = match level {
        100.. => MemberRole::Administrator,
        50.. => MemberRole::Moderator,
        _ => MemberRole::User,
    };
    (level, role)
}

fn membership(state: &MembershipState) -> Membership {
    match state {
        MembershipState::Join => Membership::Joined,
        MembershipState::Invite => Membership::Invited,
        MembershipState::Ban => Membership::Banned,
        MembershipState::Knock => Membership::Knocked,
        _ => Membership::Left,
    }
}

/// What a moderator does to a member.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Moderation {
    Kick,
    Ban,
    Unban,
}

/// Kicks, bans or unbans `user_id` in the joined room `room_id`. Without
/// the power to: `Server { status: 403 }`.
pub(crate) async fn moderate(
    client: &matrix_sdk::Client,
    room_id: &str,
    user_id: &str,
    action: Moderation,
    reason: Option<String>,
) -> CoreResult<()> {
    let user = parse_user_id(user_id)?;
    let room = joined_room(client, room_id)?;
    let reason = reason.as_deref();
    let done = match action {
        Moderation::Kick => room.kick_user(&user, reason).await,
        Moderation::Ban => room.ban_user(&user, reason).await,
        Moderation::Unban => room.unban_user(&user, reason).await,
    };
    done.map_err(|e| errors::from_room_action(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use matrix_sdk::ruma::int;

    #[test]
    fn roles_follow_the_power_levels_and_a_creator_is_an_administrator() {
        assert_eq!(power(UserPowerLevel::Int(int!(0))), (0, MemberRole::User));
        assert_eq!(power(UserPowerLevel::Int(int!(49))).1, MemberRole::User);
        assert_eq!(
            power(UserPowerLevel::Int(int!(50))).1,
            MemberRole::Moderator
        );
        assert_eq!(
            power(UserPowerLevel::Int(int!(100))).1,
            MemberRole::Administrator
        );
        assert_eq!(power(UserPowerLevel::Int(int!(-5))), (-5, MemberRole::User));
        assert_eq!(
            power(UserPowerLevel::Infinite),
            (i64::MAX, MemberRole::Administrator)
        );
    }
}
