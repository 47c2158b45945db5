#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
@testable import LuminalSystem
import LuminalWire
import Testing

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
            let stalled = try HTTPProbe.stalledScrapers(port: port)
            for probe in stalled { try probe.awaitFirstByte() }
            #expect(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").status == 200)
        },
        HostileCase("a photon file whose name holds CR, LF, CR LF, ESC, C1 controls, U+2028, quotes and backslashes", options: ["--metrics", "127.0.0.1:0"],
                    prepare: { folder in
            folder.script(Supervisor.HostileNames.fileName, "exec '\(BuildProducts.chaosPhoton)' serve named")
        }) { supervisor in
            let port = try await supervisor.metricsPort()
            _ = try await supervisor.startedPID("named")
            let file = Paths.join(supervisor.photons.path, Supervisor.HostileNames.fileName)
            let scraped = try Exposition(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").body)
            #expect(scraped.value("luminal_photon_info", ["photon": "named", "file": file]) == 1)
            let table = try await supervisor.client("status")
            #expect(!table.output.contains(where: Supervisor.HostileNames.raw), "\(table.output)")
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
