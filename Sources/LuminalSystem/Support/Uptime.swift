import Dispatch

/// Instants on Dispatch's uptime clock, in nanoseconds: the clock its timers run on.
package enum Uptime {
    /// Now.
    package static func now() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }

    /// `duration` after `instant`; `UInt64.max` (never) when that does not fit.
    package static func after(_ duration: Duration, from instant: UInt64) -> UInt64 {
        let (sum, overflow) = instant.addingReportingOverflow(nanoseconds(duration))
        return overflow ? .max : sum
    }

    /// `duration` in whole nanoseconds, never negative.
    package static func nanoseconds(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0, attoseconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return overflow || carry ? .max : total
    }
}
