#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// `luminal metrics` and `luminal run --metrics`: what they report, in Prometheus' format,
    /// and how the HTTP endpoint takes bad requests.
    @Suite struct Metrics {
        @Test func metricsCountCallsByOutcomeAndFollowTheFormat() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            for _ in 0..<3 { #expect(try await supervisor.client("call", "first", "echo", "1").code == 0) }
            #expect(try await supervisor.client("call", "first", "fail").code == 1)
            #expect(try await supervisor.client("call", "first", "hang", "--timeout", "0.05").code == 1)
            let run = try await supervisor.client("metrics")
            #expect(run.code == 0)
            let metrics = try Exposition(run.output.joined(separator: "\n") + "\n")
            let first = ["photon": "first"]
            #expect(metrics.value("luminal_calls_total", first.merging(["outcome": "ok"]) { $1 }) == 3)
            #expect(metrics.value("luminal_calls_total", first.merging(["outcome": "photonError"]) { $1 }) == 1)
            #expect(metrics.value("luminal_calls_total", first.merging(["outcome": "timeout"]) { $1 }) == 1)
            #expect(metrics.value("luminal_call_duration_seconds_count", first) == 5)
            #expect(metrics.value("luminal_calls_in_flight", first) == 0)
            #expect(metrics.value("luminal_calls_total", ["photon": "second", "outcome": "ok"]) == 0)
            #expect(metrics.value("luminal_photon_up", first) == 1)
            #expect(metrics.value("luminal_photon_state", first.merging(["state": "started"]) { $1 }) == 1)
            #expect(metrics.value("luminal_photon_generation", first) == 1)
            let file = ["file": Paths.join(supervisor.photons.path, "first")]
            #expect(try #require(metrics.value("luminal_file_processes", file)) >= 1)
            #expect(try #require(metrics.value("luminal_file_resident_memory_bytes", file)) > 0)
            #expect(try #require(metrics.value("luminal_file_open_fds", file)) >= 5)
            #expect(metrics.value("luminal_photons") == 2)
            #expect(try #require(metrics.value("process_resident_memory_bytes")) > 0)
            #expect(metrics.types["luminal_call_duration_seconds"] == "histogram")

            // A crash and its restart show in the restart count and the generation.
            _ = try await supervisor.client("call", "first", "crash")
            try await waitUntil("first restarted") {
                let text = try await supervisor.client("metrics").output.joined(separator: "\n") + "\n"
                let after = try Exposition(text)
                return after.value("luminal_photon_restarts_total", first) == 1 && after.value("luminal_photon_up", first) == 1
                    && after.value("luminal_photon_generation", first) == 2
            }
            #expect(try await supervisor.client("metrics", "extra").code == 64)
            try await supervisor.stop()
        }

        @Test func reloadsRollbacksAndFaultsAreCountedPerFile() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let file = ["file": Paths.join(supervisor.photons.path, "first")]
            #expect(try await supervisor.client("reload", "first").code == 0)
            // A frame that is not JSON: the worker is killed for breaking the protocol, and restarted.
            #expect(try await supervisor.client("call", "first", "raw", #"{"hex": "000000027b78"}"#).code == 1)
            try await waitUntil("the fault counted and the photon back") {
                let metrics = try Exposition(try await supervisor.client("metrics").output.joined(separator: "\n") + "\n")
                return metrics.value("luminal_file_protocol_faults_total", file) == 1 && metrics.value("luminal_photon_up", ["photon": "first"]) == 1
            }
            supervisor.photons.script("first", "echo broken >&2\nexit 3")
            #expect(try await supervisor.client("reload", "first").code == 5)
            let metrics = try Exposition(try await supervisor.client("metrics").output.joined(separator: "\n") + "\n")
            #expect(metrics.value("luminal_file_reloads_total", file) == 1)
            #expect(metrics.value("luminal_file_rollbacks_total", file) == 1)
            #expect(metrics.value("luminal_file_missed_heartbeats_total", file) == 0)
            #expect(metrics.value("luminal_photon_info", ["photon": "first"].merging(file) { $1 }) == 1)
            try await supervisor.stop()
        }

        @Test func theEndpointServesMetricsAndRefusesEverythingElse() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await supervisor.metricsPort()
            let get = try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(get.status == 200)
            #expect(get.header("Content-Type") == "text/plain; version=0.0.4; charset=utf-8")
            #expect(try Exposition(get.body).value("luminal_photon_up", ["photon": "first"]) == 1)
            let head = try HTTPProbe.exchange(port, "HEAD /metrics?x=1 HTTP/1.0\r\n\r\n")
            #expect(head.status == 200 && head.body.isEmpty && Int(head.header("Content-Length") ?? "") ?? 0 > 0)
            #expect(try HTTPProbe.exchange(port, "GET / HTTP/1.1\r\n\r\n").status == 404)
            // The absolute form, as sent through a proxy, names the same endpoints.
            #expect(try HTTPProbe.exchange(port, "GET http://127.0.0.1:\(port)/metrics HTTP/1.1\r\n\r\n").status == 200)
            #expect(try HTTPProbe.exchange(port, "GET HTTP://localhost/readyz?x HTTP/1.1\r\n\r\n").status == 200)
            #expect(try HTTPProbe.exchange(port, "GET http://localhost?x HTTP/1.1\r\n\r\n").status == 404)
            #expect(try HTTPProbe.exchange(port, "GET http://user@[::1]:9/livez HTTP/1.1\r\n\r\n").status == 200)
            let post = try HTTPProbe.exchange(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
            #expect(post.status == 405 && post.header("Allow") == "GET, HEAD")
            for malformed in ["garbage\r\n\r\n", "GET /metrics HTTP/2.0\r\n\r\n", "GET metrics HTTP/1.1\r\n\r\n", "GET ftp://host/metrics HTTP/1.1\r\n\r\n",
                              "GET http:///metrics HTTP/1.1\r\n\r\n", "GET http://@/metrics HTTP/1.1\r\n\r\n",
                              "GET http://[::1/metrics HTTP/1.1\r\n\r\n", "GET http://h#/metrics HTTP/1.1\r\n\r\n",
                              "GET /metrics#top HTTP/1.1\r\n\r\n",
                              "GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n", "GET /me\u{0}trics HTTP/1.1\r\n\r\n", "\r\n\r\n"] {
                #expect(try HTTPProbe.exchange(port, malformed).status == 400, "\(malformed.debugDescription)")
            }
            let hugeHeader = "GET /metrics HTTP/1.1\r\nX-Big: \(String(repeating: "a", count: 9000))\r\n\r\n"
            #expect(try HTTPProbe.exchange(port, hugeHeader).status == 431)
            let manyHeaders = "GET /metrics HTTP/1.1\r\n" + (0..<100).map { "X-\($0): 1\r\n" }.joined() + "\r\n"
            #expect(try HTTPProbe.exchange(port, manyHeaders).status == 431)
            let endless = try HTTPProbe(port: port)
            // A head that never ends is cut off at the size limit, however much more comes.
            try endless.send("GET /metrics HTTP/1.1\r\n" + String(repeating: "X-A: b\r\n", count: 1200))
            #expect(try endless.readToEnd().status == 431)
            try await expectStillServing(supervisor, port)
            try await supervisor.stop()
        }

        @Test func idleSlowAndSilentClientsDisturbNothing() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await supervisor.metricsPort()
            // A client that asks and does not read yet, then 1,000 that connect and say nothing.
            let slow = try HTTPProbe(port: port)
            try slow.send("GET /metrics HTTP/1.1\r\n\r\n")
            let idle = try (0..<1000).map { _ in try HTTPProbe(port: port) }
            try await expectStillServing(supervisor, port)
            #expect(try slow.readToEnd().status == 200)
            // A client that stops half-way through its request is told it took too long.
            let silent = try HTTPProbe(port: port)
            try silent.send("GET /metr")
            #expect(try silent.readToEnd().status == 408)
            withExtendedLifetime(idle) {}
            try await expectStillServing(supervisor, port)
            try await supervisor.stop()
        }

        @Test func anAddressInUseOrMalformedIsRefused() async throws {
            let first = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await first.metricsPort()
            let second = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:\(port)"], awaitingStartup: false) { $0.chaos("second") }
            #expect(try await second.run.finish() == .exited(code: 73))
            #expect(second.run.lines.contains { $0.contains("listen for metrics on 127.0.0.1:\(port): bind") && $0.contains("in use") }, "\(second.run.lines)")
            // Malformed: a usage error, before anything is made.
            for bad in ["localhost:80", "127.0.0.1:99999", "nope"] {
                let run = try CommandProcess(["run", first.photons.path, "--metrics", bad, "--control", Paths.join(first.scratch.path, "other.sock")])
                let status = try await run.finish()
                #expect(status == .exited(code: 64), "\(bad): \(run.lines)")
            }
            try await first.stop()
        }

        /// Scrapes, calls a photon and asks for its status: all still answer.
        private func expectStillServing(_ supervisor: SupervisedFolder, _ port: UInt16) async throws {
            #expect(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").status == 200)
            #expect(try await supervisor.client("call", "first", "echo", "2").output == ["2"])
            #expect(try await supervisor.client("status", "first").code == 0)
        }
    }
}

extension Supervisor {
    @Suite struct CallCounting {
        @Test func everyOutcomeHasItsOwnCounter() {
            let metrics = CallMetrics()
            for outcome in CallOutcome.allCases {
                metrics.ended(outcome, since: metrics.began())
            }
            let reading = metrics.reading
            #expect(CallOutcome.allCases.allSatisfy { reading.outcomes[$0.rawValue] == 1 })
            #expect(reading.count == UInt64(CallOutcome.allCases.count) && reading.inFlight == 0)
            #expect(CallOutcome(.poisonCall) == .poisonCall && CallOutcome(.cancelled) == .cancelled)
        }
    }
}
