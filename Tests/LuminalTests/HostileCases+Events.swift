#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
import LuminalWire
import Testing

extension HostileCase {
    /// `events` clients that ask for too much, for nothing, or never read what they asked for.
    static let events: [HostileCase] = [
        HostileCase("events requests with a huge --since, a negative one, a kind no event has, a name no photon can have, and a name no photon has") { supervisor in
            let all = try supervisor.events("--since", "9223372036854775807", "--kind", "loaded")
            try await all.line { $0.contains(#""event":"loaded""#) && $0.contains("bystander") }
            for (arguments, code) in [(["--since", "-5"], 64), (["--kind", "nope"], 65), (["--photon", "a b"], 65)] {
                #expect(try await supervisor.client(["events"] + arguments).code == Int32(code), "\(arguments)")
            }
            let nothing = try supervisor.events("--since", "1000", "--photon", "nobody")
            try await nothing.line { $0.contains("luminal events: no photon or photon file 'nobody' is loaded now; its events show once it is") }
            let everything = try supervisor.events("--kind", "photonEvent")
            try await waitUntil("the unfiltered client sees an event") {
                _ = try await supervisor.client("call", "bystander", "emit", #"{"name": "end"}"#)
                return everything.output.contains { $0.contains(#""name":"end""#) }
            }
            #expect(nothing.output.isEmpty, "\(nothing.output.prefix(3))") // the note is on standard error
            for client in [all, nothing, everything] {
                client.process.signal(SIGTERM)
                _ = await client.process.waitForExit(timeout: testDeadline)
            }
        },
        HostileCase("an events --since 1000 client that never reads while a photon emits 64 events of 1 MiB, kept and new") { supervisor in
            #expect(try await supervisor.client("call", "bystander", "emit-many", #"{"count": 8, "bytes": 1048576}"#, "--timeout", "300").code == 0)
            let stalled = try RawControlConnection(supervisor.control)
            stalled.shrinkReceiveBuffer(to: 4096)
            var request = ControlRequest(.events, follow: true)
            request.since = 1000
            stalled.send(request)
            #expect(try await supervisor.client("call", "bystander", "emit-many", #"{"count": 64, "bytes": 1048576}"#, "--timeout", "300").code == 0)
            withExtendedLifetime(stalled) {}
        },
    ]
}
