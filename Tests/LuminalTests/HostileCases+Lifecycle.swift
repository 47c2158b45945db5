import Testing
@testable import Luminal
import LuminalWire

extension HostileCase {
    /// Photons the supervisor tries again on the operator's behalf.
    static let lifecycle: [HostileCase] = [
        HostileCase("a photon whose start crashes its worker every time, never started", prepare: { folder in
            folder.chaos("doomed", mode: "crash-on-start")
        }) { supervisor in
            let path = Paths.join(supervisor.photons.path, "doomed")
            // Meant to run, it is started again by each restart, at the backoff's pace, until quarantined.
            try await supervisor.run.line { $0.contains("photon file \(path) failed 8 times in a row") }
            let attempts = supervisor.run.lines.filter { $0.contains("photon file \(path) failed (") }
            #expect(attempts.count == 7, "\(attempts)")
            let state = try await supervisor.client("status", "--json", "doomed").json()[0]?["state"]?.stringValue
            #expect(state?.contains("quarantined") == true, "\(state ?? "no state")")
        },
    ]
}
