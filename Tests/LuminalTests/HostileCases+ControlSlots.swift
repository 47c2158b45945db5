@testable import Luminal
@testable import LuminalDaemon
import LuminalWire
import Testing

extension HostileCase {
    /// Control clients that take the connection places and give them back.
    static let controlSlots: [HostileCase] = [
        HostileCase("64 control clients at a time that hang up as soon as they connect, ten times over") { supervisor in
            // A connection that ended before the supervisor recorded it used to keep its place
            // for good: after a few rounds every client was refused.
            for _ in 0..<10 {
                _ = try (0..<ControlServer.connectionLimit).map { _ in try RawControlConnection(supervisor.control) }
            }
            try await supervisor.everyControlPlaceFree()
        },
    ]
}

extension SupervisedFolder {
    /// Waits until as many clients as the connection limit are all served at once: the places of
    /// clients that hung up are given back (when the supervisor reads their ends, so a little later).
    func everyControlPlaceFree() async throws {
        try await waitUntil("place for each of \(ControlServer.connectionLimit) control clients at once") {
            let crowd = try (0..<ControlServer.connectionLimit).map { _ in try RawControlConnection(control) }
            crowd.forEach { $0.send(ControlRequest(.status)) }
            return try crowd.allSatisfy { connection in
                guard let reply = try connection.receive(), case .success = try ControlReply(object: reply) else { return false }
                return true
            }
        }
    }
}
