#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Testing

/// The system-call helpers: `errno` as the call left it, the event loop's unpollable files, and
/// `awaitCallback`'s timeout.
@Suite struct SystemCalls {
    /// Text whose building changes `errno`, as an allocation may.
    struct ErrnoClobbering: CustomStringConvertible {
        var description: String {
            errno = 0
            return "clobbered"
        }
    }

    @Test func retryingEINTRReportsTheErrnoOfTheCallNotOfItsText() {
        #expect(throws: SystemError(errno: ENOENT, "open clobbered")) {
            try retryingEINTR("open \(ErrnoClobbering())") { open("/nonexistent/luminal", O_RDONLY) }
        }
    }

    @Test func aRegularFileIsReportedReadyAtOnce() async throws {
        let path = "/tmp/luminal-event-loop-\(getpid())"
        let fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        try #require(fd >= 0)
        defer {
            close(fd)
            unlink(path)
        }
        var token: EventLoop.Token?
        let ready = await awaitCallback(timeout: testDeadline) { deliver in
            token = EventLoop.shared.add(fd, once: true) { deliver(true) }
        }
        token.map(EventLoop.shared.remove)
        #expect(ready == true)
    }

    @Test func awaitCallbackReturnsTheFirstValue() async {
        let value = await awaitCallback(timeout: .seconds(3600)) { deliver in
            deliver(1)
            deliver(2)
        }
        #expect(value == 1)
    }

    @Test func awaitCallbackReturnsNilOnceTheTimeoutPasses() async {
        let value = await awaitCallback(timeout: .milliseconds(10)) { (_: @escaping @Sendable (Int) -> Void) in }
        #expect(value == nil)
    }

    @Test func aValueAfterTheTimeoutIsDropped() async {
        var late: (@Sendable (Int) -> Void)?
        let value = await awaitCallback(timeout: .milliseconds(10)) { deliver in late = deliver }
        late?(1)
        #expect(value == nil)
    }
}
