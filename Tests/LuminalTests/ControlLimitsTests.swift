#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
import LuminalWire
import Testing

extension Supervisor {
    /// A control client cannot make `luminal run` hold more than a bounded amount, nor break the clients of others.
    @Suite struct ControlLimits {
        @Test func anEventsClientThatStopsReadingIsDisconnectedAtTheCap() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let pid = supervisor.run.process.pid
            let before = try #require(residentBytes(of: pid))
            let stalled = try RawControlConnection(supervisor.control)
            stalled.shrinkReceiveBuffer(to: 4096)
            stalled.send(ControlRequest(.events, follow: true))
            // Events have no backlog: emit until the stalled client, subscribed at some point, is dropped.
            try await waitUntil("the stalled client disconnected") {
                let grown = try #require(residentBytes(of: pid)) - before
                guard grown < memoryBound(mebibytes: 200) else {
                    Issue.record("RSS grew by \(grown >> 20) MiB with one stalled client")
                    return true
                }
                _ = try await supervisor.client("call", "first", "emit-many", #"{"count": 20, "bytes": 1000000}"#)
                return supervisor.run.lines.contains { $0.contains("control client pid \(getpid())") && $0.contains("disconnected") }
            }
            let grown = try #require(residentBytes(of: pid)) - before
            #expect(grown < memoryBound(mebibytes: 100), "RSS grew by \(grown >> 20) MiB")
            try stalled.readToEnd()
            #expect(supervisor.run.lines.filter { $0.contains("control client pid \(getpid())") }.count == 1)
            #expect(try await supervisor.client("status", "--check").code == 0)
            try await supervisor.stop()
        }

        @Test func pipelinedRequestsWhoseRepliesAreNotReadAreCut() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            _ = try await supervisor.client("call", "first", "lines", #"{"count": 2000}"#)
            let pid = supervisor.run.process.pid
            let before = try #require(residentBytes(of: pid))
            let greedy = try RawControlConnection(supervisor.control)
            greedy.shrinkReceiveBuffer(to: 4096)
            greedy.write(Array((0..<500).map { _ in Frame.encode(ControlRequest(.logs, lines: 2000).json) }.joined()))
            try await supervisor.run.line { $0.contains("control client pid \(getpid())") && $0.contains("disconnected") }
            let grown = try #require(residentBytes(of: pid)) - before
            #expect(grown < memoryBound(mebibytes: 100), "RSS grew by \(grown >> 20) MiB")
            try greedy.readToEnd()
            #expect(try await supervisor.client("status", "--check").code == 0)
            try await supervisor.stop()
        }

        @Test func aNewcomerIsRefusedOnlyWhenEveryClientHasARequestBeingAnswered() async throws {
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--metrics", "127.0.0.1:0"]) { $0.chaos("first") }
            let port = try await supervisor.metricsPort()
            var busy: [RawControlConnection] = []
            for _ in 0..<64 {
                let connection = try RawControlConnection(supervisor.control)
                connection.send(ControlRequest(.call, targets: ["first"], method: "hang"))
                busy.append(connection)
            }
            // Watched over HTTP: a control client would take a slot.
            try await waitUntil("64 calls in flight") {
                let metrics = try Exposition(try HTTPProbe.exchange(port, "GET /metrics HTTP/1.1\r\n\r\n").body)
                return metrics.value("luminal_calls_in_flight", ["photon": "first"]) == 64
            }
            let extra = try RawControlConnection(supervisor.control)
            let refusal = try #require(try extra.receive())
            #expect(refusal["ok"] == false)
            #expect(refusal["error"]?["code"] == "limitExceeded")
            #expect(refusal["error"]?["message"]?.stringValue?.contains("64") == true, "\(refusal)")
            #expect(try extra.receive() == nil)
            try await supervisor.run.line { $0.contains("warning") && $0.contains("control client pid \(getpid()) refused") && $0.contains("64 clients") }
            busy = []
            // The slots come free as the supervisor sees the hang-ups.
            try await waitUntil("a connection served again") { try await supervisor.client("status", "--check").code == 0 }
            try await supervisor.stop()
        }

        @Test func aReplyTooLargeForOneFrameComesInPartsOrAsAClearError() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("big", mode: "raw") }
            // A legal result of 12 MB (3 million numbers written `1e9`) that the supervisor
            // writes as 39 MB: more than a reply frame may hold. `luminal` reads it in parts.
            let call = try await supervisor.client("call", "big", "numbers", "3000000", "--json")
            #expect(call.code == 0, "\(call.lines.suffix(3))")
            let text = call.output.joined()
            #expect(text.utf8.count > ControlServer.replyCap && text.hasPrefix("[1000000000") && text.hasSuffix("]"), "\(text.utf8.count) bytes")
            // A client that does not read parts (an older one) gets a clear error instead.
            let older = try RawControlConnection(supervisor.control)
            older.send(ControlRequest(.call, targets: ["big"], method: "numbers", params: 3_000_000))
            let error = try #require(try older.receive())["error"]
            #expect(error?["code"] == "limitExceeded")
            #expect(error?["details"]?["limit"] == .int(Int64(ControlServer.replyCap)))
            #expect(error?["message"]?.stringValue?.contains("in parts") == true)
            #expect(try await supervisor.client("call", "big", "numbers", "3", "--json").json() == [1e9, 1e9, 1e9])
            #expect(try await supervisor.client("status", "--check").code == 0)
            try await supervisor.stop()
        }

        @Test func anEventTooLargeForAClientFrameIsReportedAsDropped() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let events = try await supervisor.subscribedEvents(through: "first")
            // As large as a worker may send: the event frame just under the 16 MiB cap.
            let bytes = Frame.defaultCap - 100
            _ = try await supervisor.client("call", "first", "emit-many", #"{"count": 1, "name": "big", "bytes": \#(bytes)}"#)
            _ = try await supervisor.client("call", "first", "emit", #"{"name": "after"}"#)
            try await events.line { $0.contains(#""name":"after""#) }
            #expect(events.output.contains { $0.contains(#""event":"eventsDropped""#) })
            #expect(isAlive(events.process.pid))
            events.process.signal(SIGTERM)
            _ = try await events.finish()
            try await supervisor.stop()
        }
    }
}
