#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension HostileCase {
    /// Inputs that would make the supervisor retry, warn or wait over and over.
    static let storms: [HostileCase] = [
        HostileCase("a photon process that retries the control socket in a loop") { supervisor in
            let luminal = Paths.join(BuildProducts.directory, "luminal")
            let loop = "while :; do '\(luminal)' status --control '\(supervisor.control)'; done >/dev/null 2>&1 &"
            let params = #"{"argv": ["/bin/sh", "-c", "\#(loop)"]}"#
            let began = ContinuousClock.now
            #expect(try await supervisor.client("call", "bystander", "run", params).code == 0)
            let summary = try await supervisor.run.line { $0.contains("refused") && $0.contains("more like this suppressed") }
            let refusals = supervisor.run.lines.prefix { $0 != summary }.filter { $0.contains("control client pid") && $0.contains("refused") }
            // The burst, and one more for each refill period the loop took (a sanitizer's slowdown).
            let allowed = WarningLimiter.burst + Int(began.duration(to: .now) / WarningLimiter.refill)
            #expect(refusals.count <= allowed, "\(refusals.count) refusals logged, \(allowed) allowed")
        },
        HostileCase("a recycle policy, then a version that cannot start saved", prepare: { folder in
            folder.write("aged/photon.json", #"{"exec": "run", "recycle": {"age": 1, "interval": 0.05}}"#)
            folder.script("aged/run", "exec '\(BuildProducts.chaosPhoton)' serve aged")
        }) { supervisor in
            _ = try await supervisor.startedPID("aged")
            supervisor.photons.script("aged/run", "exit 3")
            let path = Paths.join(supervisor.photons.path, "aged")
            // Tried at the restart backoff's pace until the quarantine retry: 8 attempts, not one per sample.
            try await supervisor.run.line { $0.contains("recycling photon file \(path) failed 8 times in a row") }
            let attempts = supervisor.run.lines.filter { $0.contains("recycling photon file \(path) failed") }
            #expect(attempts.count == 8, "\(attempts)")
            #expect(try await supervisor.client("call", "aged", "echo", "1").output == ["1"])
        },
        HostileCase("a Python photon whose method threads all block", prepare: { folder in
            _ = Supervisor.StuckPhotons.package(folder, #""timeouts": {"call": 1}"#)
        }) { supervisor in
            _ = try await supervisor.startedPID("stuck")
            let blocked = try (0..<8).map { _ in try CommandProcess(["call", "stuck", "block", "--control", supervisor.control]) }
            for call in blocked { #expect(try await call.finish() == .exited(code: 1), "\(call.lines)") }
            try await waitUntil("stuck shown unresponsive") {
                try await supervisor.client("status", "--json", "stuck").json()[0]?["state"] == "unresponsive"
            }
        },
    ]
}
