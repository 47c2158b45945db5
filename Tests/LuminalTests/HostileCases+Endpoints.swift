#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Luminal
import LuminalWire

extension HostileCase {
    /// Clients of the metrics endpoint that crowd it or never read.
    static let endpoints: [HostileCase] = [
        HostileCase("64 metrics clients that send one byte and reconnect as soon as they are closed", options: ["--metrics", "127.0.0.1:0"]) { supervisor in
            let port = try await supervisor.metricsPort()
            let crowd = try ReconnectingCrowd(count: MetricsServer.connectionLimit, port: port)
            for _ in 0..<10 {
                #expect(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").status == 200)
            }
            try await crowd.stop()
        },
        HostileCase("64 metrics scrapers that never read", options: ["--metrics", "127.0.0.1:0"]) { supervisor in
            let port = try await supervisor.metricsPort()
            let stalled = try (0..<MetricsServer.connectionLimit).map { _ in
                let probe = try HTTPProbe(port: port)
                probe.setReceiveBuffer(to: 4096)
                try probe.send("GET /metrics HTTP/1.1\r\n\r\n")
                return probe
            }
            for probe in stalled { try probe.awaitFirstByte() }
            #expect(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").status == 200)
        },
    ]
}

extension SupervisedFolder {
    /// The port `luminal run` says it serves metrics on.
    func metricsPort() async throws -> UInt16 {
        let line = try await run.line { $0.contains("metrics on http://127.0.0.1:") }
        return try #require(UInt16(line.split(separator: ":").last?.prefix { $0.isNumber } ?? ""))
    }
}
