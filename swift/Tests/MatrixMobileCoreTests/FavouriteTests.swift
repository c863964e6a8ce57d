import Foundation
import XCTest
@testable import MatrixMobileCore

/// `setFavourite` against the real homeserver: the tag reaches the room's
/// summary and the room list's `favourites` filter, and taking it off
/// removes it from both.
final class FavouriteTests: XCTestCase {
    func testSetFavouriteShowsInTheSummaryAndTheFavouritesFilterThenLeavesBoth() async throws {
        let (client, _, _) = try await loggedInClient("favourite")
        let roomId = try await client.createRoom(name: "swift favourite", invite: [], encrypted: false)
        let otherId = try await client.createRoom(name: "swift not a favourite", invite: [], encrypted: false)
        try await client.startSync()
        XCTAssertFalse(try client.room(roomId: roomId).isFavourite, "a new room is no favourite")
        let favourites = Snapshots(client.roomList(
            options: RoomListOptions(pageSize: 50, filter: .favourites), bufferingPolicy: .unbounded))
        let first = await eventually(timeout: 10) { favourites.count > 0 }
        XCTAssertTrue(first, "the favourites list yielded nothing")
        XCTAssertEqual(favourites.latest.map(\.roomId), [], "no favourite yet")

        try await client.setFavourite(roomId: roomId, favourite: true)
        let tagged = await eventually(timeout: 20) { (try? client.room(roomId: roomId).isFavourite) == true }
        XCTAssertTrue(tagged, "isFavourite never became true in the room's summary")
        let listed = await eventually(timeout: 20) { favourites.latest.map(\.roomId) == [roomId] }
        XCTAssertTrue(listed, "the favourites list shows \(favourites.latest.map(\.roomId)), not the room")
        XCTAssertEqual(favourites.latest.first?.isFavourite, true, "the list's row says favourite")
        XCTAssertFalse(try client.room(roomId: otherId).isFavourite, "the other room stays no favourite")

        try await client.setFavourite(roomId: roomId, favourite: false)
        let untagged = await eventually(timeout: 20) { (try? client.room(roomId: roomId).isFavourite) == false }
        XCTAssertTrue(untagged, "isFavourite never became false again")
        let emptied = await eventually(timeout: 20) { favourites.latest.isEmpty }
        XCTAssertTrue(emptied, "the favourites list still shows \(favourites.latest.map(\.roomId))")

        let report = try await client.logout(options: LogoutOptions(), listener: nil)
        XCTAssertEqual(report.storeFilesOpenAfter, 0)
        let ended = await eventually(timeout: 5) { favourites.finished }
        XCTAssertTrue(ended, "the favourites stream did not finish at logout")
    }
}
