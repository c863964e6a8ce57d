//! Members with their power, moderation, and profiles: anyone's, the
//! user's own, and the user directory.

use std::sync::mpsc;
use std::time::Duration;

use futures_executor::block_on;
use matrix_mobile_core::{Client, CoreError, LogoutOptions, Member, MemberRole, Membership};

use super::homeserver::{fresh_name, Fault};
use super::session::{self, logged_in, wait, Proxied};
use super::{id, is_forbidden, png_in, run, wait_membership};

fn find<'a>(members: &'a [Member], user_id: &str) -> Option<&'a Member> {
    members.iter().find(|m| m.user_id == user_id)
}

#[test]
fn members_carry_power_and_roles_and_moderation_needs_power() {
    let (alice, _s, _d) = logged_in("mem-alice");
    let (bob, _b, _bd) = logged_in("mem-bob");
    let (carol, _c, _cd) = logged_in("mem-carol");
    run(alice.start_sync()).unwrap();
    run(bob.start_sync()).unwrap();
    let (alice_id, bob_id, carol_id) = (id(&alice), id(&bob), id(&carol));
    let room_id = run(alice.create_room("members".into(), vec![bob_id.clone()], false)).unwrap();
    run(alice.invite(room_id.clone(), carol_id.clone())).unwrap();

    let members = run(alice.members(room_id.clone())).unwrap();
    let me = find(&members, &alice_id).expect("the creator");
    assert_eq!(
        (me.membership, me.role),
        (Membership::Joined, MemberRole::Administrator)
    );
    assert!(me.power_level >= 100, "{me:?}");
    let invited = find(&members, &bob_id).expect("bob, invited");
    assert_eq!(invited.membership, Membership::Invited);
    assert_eq!((invited.power_level, invited.role), (0, MemberRole::User));
    assert!(find(&members, &carol_id).is_some());

    // Bob joins; he has no power to kick.
    wait_membership(&bob, &room_id, Membership::Invited);
    run(bob.join_room(room_id.clone())).unwrap();
    let refused = run(bob.kick(room_id.clone(), carol_id.clone(), None)).unwrap_err();
    assert!(is_forbidden(&refused), "{refused:?}");
    let refused = run(bob.ban(room_id.clone(), alice_id.clone(), Some("no".into()))).unwrap_err();
    assert!(is_forbidden(&refused), "{refused:?}");

    // Alice kicks carol's invite, bans bob and lifts the ban.
    run(alice.kick(room_id.clone(), carol_id.clone(), Some("not now".into()))).unwrap();
    run(alice.ban(room_id.clone(), bob_id.clone(), None)).unwrap();
    wait_membership(&bob, &room_id, Membership::Banned);
    let rejoin = run(bob.join_room(room_id.clone()));
    assert!(rejoin.is_err(), "a banned user cannot join: {rejoin:?}");
    run(alice.unban(room_id.clone(), bob_id.clone(), None)).unwrap();
    wait("bob's ban lifted", 30, || {
        let members = run(alice.members(room_id.clone())).unwrap();
        find(&members, &bob_id).is_none() && find(&members, &carol_id).is_none()
    });

    // Bad input.
    let bad = run(alice.kick(room_id.clone(), "carol".into(), None));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    let bad = run(alice.members("!nowhere:example.org".into()));
    assert!(matches!(bad, Err(CoreError::NotFound { .. })), "{bad:?}");
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
    assert!(matches!(
        run(alice.members(room_id)),
        Err(CoreError::ClientClosed)
    ));
    run(bob.logout(LogoutOptions::default(), None)).unwrap();
    run(carol.logout(LogoutOptions::default(), None)).unwrap();
}

/// A first load of a room's members that the network swallows ends in
/// `Timeout` after twice the client's request timeout (matrix-sdk's own
/// load waits a minute a try), and the next call loads them.
#[test]
fn a_members_load_the_network_swallows_times_out_and_the_next_call_loads() {
    // Set up with the tests' request timeout, then go on with a short one.
    let alice = Proxied::login("mem-stuck");
    let alice_id = id(&alice.client);
    run(alice.client.start_sync()).unwrap();
    let room_id = run(alice.client.create_room("stuck".into(), vec![], false)).unwrap();
    block_on(alice.client.close(None)).unwrap();
    let mut config = session::config(&alice.proxy.url, alice.dir.path());
    config.request_timeout_ms = 2_000;
    let client = block_on(Client::create(config)).unwrap();
    block_on(client.restore(alice.session.clone())).unwrap();
    run(client.start_sync()).unwrap();
    wait("the room after the restore", 30, || {
        client.room(room_id.clone()).is_ok()
    });

    alice.proxy.set(Fault::Blackhole);
    let (done, result) = mpsc::channel();
    let (caller, room) = (client.clone(), room_id.clone());
    std::thread::spawn(move || done.send(run(caller.members(room))));
    // Not a measure of speed: without the core's bound, the call is still
    // waiting out matrix-sdk's first try of 60 s.
    let stuck = result
        .recv_timeout(Duration::from_secs(40))
        .expect("members() under a black hole returns");
    assert!(matches!(stuck, Err(CoreError::Timeout { .. })), "{stuck:?}");

    alice.proxy.set(Fault::Pass);
    let members = run(client.members(room_id)).unwrap();
    assert!(find(&members, &alice_id).is_some(), "{members:?}");
    run(client.logout(LogoutOptions::default(), None)).unwrap();
}

#[test]
fn profiles_are_set_read_and_found_in_the_directory() {
    let (alice, _s, dir) = logged_in("prof-alice");
    let (bob, _b, _bd) = logged_in("prof-bob");
    let (alice_id, bob_id) = (id(&alice), id(&bob));
    let shown = fresh_name("Alice Liddell");
    run(alice.set_display_name(shown.clone())).unwrap();
    run(alice.set_avatar(Some(png_in(dir.path())), None)).unwrap();
    let profile = run(bob.profile(alice_id.clone())).unwrap();
    assert_eq!(profile.user_id, alice_id);
    assert_eq!(profile.display_name.as_deref(), Some(shown.as_str()));
    let avatar = profile.avatar.expect("the avatar");
    assert!(
        avatar.url.starts_with("mxc://") && !avatar.encrypted,
        "{avatar:?}"
    );
    run(alice.set_avatar(None, None)).unwrap();
    assert_eq!(run(bob.profile(alice_id.clone())).unwrap().avatar, None);

    // The directory finds users who share a room.
    let room_id = run(alice.create_room("dir".into(), vec![bob_id.clone()], false)).unwrap();
    run(bob.join_room(room_id)).unwrap();
    wait("alice in bob's directory", 30, || {
        run(bob.search_users(shown.clone(), 10))
            .unwrap()
            .iter()
            .any(|p| p.user_id == alice_id && p.display_name.as_deref() == Some(shown.as_str()))
    });

    // Bad input.
    let server = alice_id.split(':').nth(1).unwrap().to_owned();
    let unknown = run(bob.profile(format!("@{}:{server}", fresh_name("nobody"))));
    assert!(
        matches!(unknown, Err(CoreError::NotFound { .. })),
        "{unknown:?}"
    );
    assert!(matches!(
        run(bob.profile("alice".into())),
        Err(CoreError::InvalidArgument { .. })
    ));
    assert!(matches!(
        run(alice.set_display_name("  ".into())),
        Err(CoreError::InvalidArgument { .. })
    ));
    for limit in [0, 101] {
        let bad = run(bob.search_users("a".into(), limit));
        assert!(
            matches!(bad, Err(CoreError::InvalidArgument { .. })),
            "{limit}: {bad:?}"
        );
    }
    let not_image = dir.path().join("a.txt");
    std::fs::write(&not_image, "text").unwrap();
    let bad = run(alice.set_avatar(Some(not_image.to_string_lossy().into_owned()), None));
    assert!(
        matches!(bad, Err(CoreError::InvalidArgument { .. })),
        "{bad:?}"
    );
    run(alice.logout(LogoutOptions::default(), None)).unwrap();
    run(bob.logout(LogoutOptions::default(), None)).unwrap();
}
