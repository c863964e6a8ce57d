import XCTest
@testable import MatrixMobileCoreTests

fileprivate extension CancellationTests {
    @available(*, deprecated, message: "Not actually deprecated. Marked as deprecated to allow inclusion of deprecated tests (which test deprecated functionality) without warnings")
    static nonisolated(unsafe) let __allTests__CancellationTests = [
        ("testCancelledCallsLeaveNoTaskBehind", asyncTest(testCancelledCallsLeaveNoTaskBehind)),
        ("testCancellingAStreamConsumerEndsItsLoop", asyncTest(testCancellingAStreamConsumerEndsItsLoop)),
        ("testReleasingClientsRightAfterStartingACallIsHarmless", asyncTest(testReleasingClientsRightAfterStartingACallIsHarmless))
    ]
}

fileprivate extension ErrorTests {
    @available(*, deprecated, message: "Not actually deprecated. Marked as deprecated to allow inclusion of deprecated tests (which test deprecated functionality) without warnings")
    static nonisolated(unsafe) let __allTests__ErrorTests = [
        ("testCallsOnAClosedClientThrowClientClosed", asyncTest(testCallsOnAClosedClientThrowClientClosed)),
        ("testDataDirUnderARegularFileIsAStorageError", asyncTest(testDataDirUnderARegularFileIsAStorageError)),
        ("testMalformedHomeserverURLIsInvalidArgument", asyncTest(testMalformedHomeserverURLIsInvalidArgument)),
        ("testSendingToAnUnknownRoomIsAnError", asyncTest(testSendingToAnUnknownRoomIsAnError)),
        ("testUnreachableServerLoginIsANetworkError", asyncTest(testUnreachableServerLoginIsANetworkError)),
        ("testWrongPasswordIsAnAuthOrServerError", asyncTest(testWrongPasswordIsAnAuthOrServerError))
    ]
}

fileprivate extension LifecycleTests {
    @available(*, deprecated, message: "Not actually deprecated. Marked as deprecated to allow inclusion of deprecated tests (which test deprecated functionality) without warnings")
    static nonisolated(unsafe) let __allTests__LifecycleTests = [
        ("testLogoutWithPhaseClosureReportsDoneLast", asyncTest(testLogoutWithPhaseClosureReportsDoneLast)),
        ("testSecondLogoutGetsClientClosed", asyncTest(testSecondLogoutGetsClientClosed)),
        ("testWholeLifeFromLoginToShutdownAndANewGeneration", asyncTest(testWholeLifeFromLoginToShutdownAndANewGeneration))
    ]
}

fileprivate extension ListenerTests {
    @available(*, deprecated, message: "Not actually deprecated. Marked as deprecated to allow inclusion of deprecated tests (which test deprecated functionality) without warnings")
    static nonisolated(unsafe) let __allTests__ListenerTests = [
        ("testAfterLogoutTheLastCallsAreTheEndSignals", asyncTest(testAfterLogoutTheLastCallsAreTheEndSignals)),
        ("testMessageStreamDeliversSentMessages", asyncTest(testMessageStreamDeliversSentMessages)),
        ("testSlowAndIgnoringListenersDoNotStallTheCore", asyncTest(testSlowAndIgnoringListenersDoNotStallTheCore)),
        ("testStreamsFinishWhenTheClientLogsOut", asyncTest(testStreamsFinishWhenTheClientLogsOut)),
        ("testStreamsOnAClosedClientFinishAtOnce", asyncTest(testStreamsOnAClosedClientFinishAtOnce))
    ]
}
@available(*, deprecated, message: "Not actually deprecated. Marked as deprecated to allow inclusion of deprecated tests (which test deprecated functionality) without warnings")
func __MatrixMobileCoreTests__allTests() -> [XCTestCaseEntry] {
    return [
        testCase(CancellationTests.__allTests__CancellationTests),
        testCase(ErrorTests.__allTests__ErrorTests),
        testCase(LifecycleTests.__allTests__LifecycleTests),
        testCase(ListenerTests.__allTests__ListenerTests)
    ]
}