import Glibc
import Testing
@testable import Luminal

/// The system-call helpers: `errno` as the call left it.
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
}
