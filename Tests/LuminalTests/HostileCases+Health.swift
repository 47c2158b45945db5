#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
@testable import LuminalSystem
import LuminalWire
import Testing

extension HostileCase {
    /// Clients of the health endpoints that crowd them, and names that would break their body.
    static let health: [HostileCase] = [
        HostileCase("64 health-probe clients that send half a request and never finish it", options: ["--metrics", "127.0.0.1:0"]) { supervisor in
            let port = try await supervisor.metricsPort()
            let stalled = try (0..<MetricsServer.connectionLimit).map { _ in
                let probe = try HTTPProbe(port: port)
                try probe.send("GET /readyz HTTP/1.1\r\nHost: x")
                return probe
            }
            // The oldest incomplete request makes room: a probe is answered at once.
            #expect(try HTTPProbe.exchange(port, "GET /livez HTTP/1.1\r\n\r\n").status == 200)
            #expect(try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n").status == 200)
            withExtendedLifetime(stalled) {}
        },
        HostileCase("a stopped photon whose file name holds CR, LF, ESC, C1 controls and U+2028, named by /readyz", options: ["--metrics", "127.0.0.1:0"],
                    prepare: { folder in
            folder.script(Supervisor.HostileNames.fileName, "exec '\(BuildProducts.chaosPhoton)' serve named")
        }) { supervisor in
            let port = try await supervisor.metricsPort()
            _ = try await supervisor.startedPID("named")
            #expect(try await supervisor.client("stop", "named").code == 0)
            let unready = try HTTPProbe.exchange(port, "GET /readyz HTTP/1.1\r\n\r\n")
            #expect(unready.status == 503)
            let lines = unready.body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == 1 && !Supervisor.HostileNames.raw(String(lines[0])), "\(unready.body)")
            #expect(lines.first?.hasSuffix(": photon named is stopped") == true, "\(unready.body)")
        },
    ]
}
