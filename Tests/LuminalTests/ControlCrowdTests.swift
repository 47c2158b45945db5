#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalDaemon
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// Clients that crowd the control socket, idle or streaming, cannot lock the operator out.
    @Suite struct ControlCrowd {
        @Test func aFullTableOfIdleClientsMakesRoomForTheOperator() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            var crowd = try (0..<ControlServer.connectionLimit).map { _ in try servedConnection(supervisor) }
            // The operator gets in: the client idle the longest is closed for it.
            #expect(try await supervisor.client("status", "first").code == 0)
            #expect(try crowd[0].receive() == nil, "the client idle the longest was not closed")
            for round in 0..<10 {
                // The closed client reconnects at once and is the newest; the operator still gets in.
                crowd.removeFirst()
                crowd.append(try servedConnection(supervisor))
                let status = try await supervisor.client("status", "first")
                #expect(status.code == 0, "round \(round): \(status.lines)")
            }
            // The newest is served as before.
            crowd[crowd.count - 1].send(ControlRequest(.call, targets: ["first"], method: "echo", params: 5))
            #expect(try crowd[crowd.count - 1].receive()?["result"] == 5)
            try await supervisor.stop()
        }

        @Test func aFullTableOfStreamsMakesRoomByClosingTheOldestWithAReason() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let streams = try (0..<ControlServer.connectionLimit).map { _ in
                let stream = try RawControlConnection(supervisor.control)
                stream.send(ControlRequest(.logs, follow: true, lines: 1))
                // Streaming once the recent line has come.
                #expect(try stream.receive()?["item"] != nil)
                return stream
            }
            #expect(try await supervisor.client("status", "first").code == 0)
            var ending = try #require(try streams[0].receive())
            while ending["item"] != nil { ending = try #require(try streams[0].receive()) }
            #expect(ending["error"]?["code"] == "limitExceeded", "\(ending)")
            #expect(ending["error"]?["message"]?.stringValue?.contains("make room") == true, "\(ending)")
            #expect(try streams[0].receive() == nil)
            try await supervisor.run.line { $0.contains("warning") && $0.contains("the oldest stream was closed to make room") }
            try await supervisor.stop()
        }

        @Test func idleClientsAreClosedAfterTheIdleTimeout() async throws {
            try await withLoader { loader, folder in
                let path = Paths.join(folder.path, "control.sock")
                let server = try ControlServer(loader: loader, path: path, idleTimeout: .milliseconds(300))
                defer { server.close() }
                // The server answers on the cooperative pool: the blocking client side runs off it.
                let (answeredOK, laterOK) = try await offThePool {
                    let silent = try RawControlConnection(path)
                    let partial = try RawControlConnection(path)
                    partial.write([0, 0, 0, 40, UInt8(ascii: "{")])
                    let answered = try RawControlConnection(path)
                    answered.send(ControlRequest(.status))
                    let answeredOK = try answered.receive()?["ok"] == true
                    // Each is closed, under the test deadline (readToEnd throws past it).
                    try silent.readToEnd()
                    try partial.readToEnd()
                    try answered.readToEnd()
                    // A new client is served as before.
                    let later = try RawControlConnection(path)
                    later.send(ControlRequest(.status))
                    return (answeredOK, try later.receive()?["ok"] == true)
                }
                #expect(answeredOK && laterOK)
            }
        }

        /// A connection that has had one request answered: the server has taken it in, and it is idle.
        private func servedConnection(_ supervisor: SupervisedFolder) throws -> RawControlConnection {
            let connection = try RawControlConnection(supervisor.control)
            connection.send(ControlRequest(.status))
            #expect(try connection.receive()?["ok"] == true)
            return connection
        }
    }
}
