@testable import Luminal
@testable import LuminalSystem
import Testing

/// The warning rate limit as a function of instants: no clock is read.
@Suite struct WarningLimiterRule {
    static let second: UInt64 = 1_000_000_000

    @Test func aBurstThenOneARefillWithTheCountOfTheRest() {
        let limiter = WarningLimiter()
        let start: UInt64 = 1_000 * Self.second
        for index in 0..<WarningLimiter.burst {
            #expect(limiter.admit("control.refused", subject: "uid 1", now: start) == 0, "line \(index)")
        }
        for _ in 0..<25 { #expect(limiter.admit("control.refused", subject: "uid 1", now: start + Self.second) == nil) }
        // Another peer, and another kind, have buckets of their own.
        #expect(limiter.admit("control.refused", subject: "uid 2", now: start + Self.second) == 0)
        #expect(limiter.admit("control.full", now: start + Self.second) == 0)
        // One refill later one line goes out, saying how many were left out.
        #expect(limiter.admit("control.refused", subject: "uid 1", now: start + 10 * Self.second) == 25)
        #expect(limiter.admit("control.refused", subject: "uid 1", now: start + 10 * Self.second) == nil)
        #expect(limiter.suppressed == 26)
        #expect(WarningLimiter.noting(25, "refused") == "refused (25 more like this suppressed)")
        #expect(WarningLimiter.noting(0, "refused") == "refused")
    }

    @Test func pastTheKeyLimitIdleKeysGoAndThenNewSubjectsShareOneKey() {
        let limiter = WarningLimiter()
        let start: UInt64 = 1_000 * Self.second
        for subject in 0..<WarningLimiter.keyLimit {
            #expect(limiter.admit("skipped", subject: "file \(subject)", now: start) == 0)
        }
        // Every key has spent a token: none is idle, so new subjects share the overflow key.
        for subject in 0..<WarningLimiter.burst {
            #expect(limiter.admit("skipped", subject: "new \(subject)", now: start) == 0)
        }
        #expect(limiter.admit("skipped", subject: "one more", now: start) == nil)
        // Once the old keys are idle again (refilled, nothing suppressed), they make room.
        #expect(limiter.admit("skipped", subject: "later", now: start + 60 * Self.second) == 0)
    }
}
