#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import Testing

extension HostileCase {
    /// Processes of a photon that try to leave it.
    static let processes: [HostileCase] = getuid() == 0 ? [
        HostileCase("a root photon's descendant that leaves its cgroup, session and marker and drives the control socket",
                    prepare: { $0.writeEscaper() }) { supervisor in
            let escaped = try await supervisor.escaped()
            _ = try await supervisor.startedPID("escaper") // the harness waits for its bystander only
            let unload = try await supervisor.client("unload", "escaper")
            #expect(unload.code == 0, "\(unload.lines); the supervisor said: \(supervisor.run.lines.suffix(10))")
            try await escaped.awaitEnd("the escaped process killed by the unload")
        },
    ] : []
}
