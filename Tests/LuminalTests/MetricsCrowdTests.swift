#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
import LuminalWire
import Testing

extension Supervisor {
    /// Clients that crowd the metrics endpoint, or never read what it sends, cannot keep
    /// Prometheus out nor make the supervisor hold a copy of the metrics each.
    @Suite struct MetricsCrowd {
        @Test func scrapesGetThroughAConnectionFloodThatReconnectsAtOnce() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await supervisor.metricsPort()
            let crowd = try ReconnectingCrowd(count: MetricsServer.connectionLimit, port: port)
            var failed: [String] = []
            for scrape in 0..<48 {
                // Every place is taken when the scrape arrives: the crowd refilled the one the last
                // scrape made room in.
                try await waitUntil("the crowd refilled the place scrape \(scrape - 1) took") { crowd.reconnections.load(ordering: .relaxed) >= scrape }
                let response = try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if response.status != 200 || (try? Exposition(response.body)) == nil { failed.append("scrape \(scrape): \(response.status)") }
            }
            // Each scrape made room by closing one of the crowd.
            try await waitUntil("the crowd refilled the place the last scrape took") { crowd.reconnections.load(ordering: .relaxed) >= 48 }
            try await crowd.stop()
            #expect(failed.isEmpty, "\(failed.count) of 48 scrapes failed: \(failed.prefix(5))")
            #expect(try await supervisor.client("status", "first").code == 0)
            try await supervisor.stop()
        }

        @Test func scrapesGetThroughAFloodOfWholeRequestsThatHangUp() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await supervisor.metricsPort()
            let flood = HangUpFlood(threads: 4, port: port)
            var failed: [String] = []
            for scrape in 0..<24 {
                // The flood keeps going between scrapes.
                let sent = flood.sent.load(ordering: .relaxed)
                try await waitUntil("the flood sent more") { flood.sent.load(ordering: .relaxed) >= sent + 16 }
                let response = try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
                if response.status != 200 || (try? Exposition(response.body)) == nil { failed.append("scrape \(scrape): \(response.status)") }
            }
            try await flood.stop()
            #expect(failed.isEmpty, "\(failed.count) of 24 scrapes failed: \(failed.prefix(5))")
            try await supervisor.stop()
        }

        @Test func scrapersThatNeverReadShareOneCopyOfTheResponse() async throws {
            // 5 workers of 1,000 photons each: an exposition of about 8 MB, more than the
            // kernel's buffers take.
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { folder in
                for worker in 0..<5 {
                    folder.python("crowd-\(worker)", "run(*[Photon('w\(worker)-p%d' % n) for n in range(1000)])")
                }
            }
            let port = try await supervisor.metricsPort()
            let first = try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n")
            #expect(first.body.contains("\nluminal_photons 5000\n"))
            let pid = supervisor.run.process.pid
            let before = try #require(residentBytes(of: pid))
            let stalled = try HTTPProbe.stalledScrapers(port: port)
            for probe in stalled { try probe.awaitFirstByte() }
            let grown = try #require(residentBytes(of: pid)) - before
            // One copy is about 8 MB; one each would be 512 MB.
            #expect(grown < memoryBound(mebibytes: 64), "64 scrapers that never read made the supervisor grow by \(grown >> 20) MiB")
            withExtendedLifetime(stalled) {}
            #expect(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").status == 200)
            try await supervisor.stop()
        }

        @Test func unreadResponsesBeyondTheBoundAreClosedOldestFirst() async throws {
            try await withLoader { loader, folder in
                // 1,000 photons: a response larger than the sockets' buffers hold.
                folder.python("crowd", "run(*[Photon('p%d' % n) for n in range(1000)])")
                for handler in try await loader.loadPhotons(in: folder.path, base: nil) { try await handler.start() }
                let server = try MetricsServer(loader: loader, host: "127.0.0.1", port: 0, unreadResponseLimit: 1)
                defer { server.close() }
                let port = server.port
                // The server answers on the cooperative pool: the blocking waits run off it.
                let (older, newer) = try await offThePool {
                    let older = try HTTPProbe(port: port)
                    older.setReceiveBuffer(to: 4096)
                    try older.send("GET /metrics HTTP/1.1\r\n\r\n")
                    try older.awaitFirstByte()
                    let newer = try HTTPProbe(port: port)
                    newer.setReceiveBuffer(to: 4096)
                    try newer.send("GET /metrics HTTP/1.1\r\n\r\n")
                    try newer.awaitFirstByte()
                    return (older, newer)
                }
                // The older response no longer fits: the server closes its connection before it
                // is all sent (what it sent already still waits in the sockets' buffers).
                try await waitUntil("the older connection closed by the server") { try !older.serverHoldsItOpen(serverPort: server.port) }
                #expect(try newer.serverHoldsItOpen(serverPort: server.port))
            }
        }
    }
}
