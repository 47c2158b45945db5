#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor.ControlLimits {
    @Test func aClientRefusedInALoopWritesABoundedNumberOfWarningsAndTheCountOfTheRest() async throws {
        let luminal = Paths.join(BuildProducts.directory, "luminal")
        let supervisor = try await SupervisedFolder { $0.chaos("confined") }
        // A process of the photon (which may not use the control socket) retries in a loop.
        let loop = "while :; do '\(luminal)' status --control '\(supervisor.control)'; sleep 0.01; done >/dev/null 2>&1 &"
        let params = #"{"argv": ["/bin/sh", "-c", "\#(loop)"]}"#
        #expect(try await supervisor.client("call", "confined", "run", params, "--json").json()["code"] == 0)
        let summary = try await supervisor.run.line { $0.contains("refused") && $0.contains("more like this suppressed") }
        let refusals = supervisor.run.lines.prefix { $0 != summary }.filter { $0.contains("control client pid") && $0.contains("refused") }
        // The burst, then the line that says how many were left out meanwhile.
        #expect(refusals.count == WarningLimiter.burst, "\(refusals.count) refusals logged before the summary")
        let suppressed = summary.split(separator: "(").last.flatMap { Int($0.prefix { $0.isNumber }) } ?? 0
        #expect(suppressed > 0, "\(summary)")
        // The operator is still served, and the log still carries other lines.
        #expect(try await supervisor.client("status", "--check").code == 0)
        try await supervisor.stop()
    }
}
