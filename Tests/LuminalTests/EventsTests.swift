#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// `luminal events --since N --photon NAME --kind KIND` against a real `luminal run`.
    @Suite struct Events {
        @Test func sinceShowsTheLastKeptEventsAdmittedThenNewOnes() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            for (photon, name) in [("first", "a"), ("first", "b"), ("second", "x"), ("first", "c")] {
                #expect(try await supervisor.client("call", photon, "emit", #"{"name": "\#(name)"}"#).code == 0)
            }
            let events = try supervisor.events("--since", "2", "--photon", "first", "--kind", "photonEvent")
            try await events.line { $0.contains(#""name":"c""#) }
            #expect(try events.output.map(Self.name) == ["b", "c"])
            #expect(try await supervisor.client("call", "second", "emit", #"{"name": "y"}"#).code == 0)
            #expect(try await supervisor.client("call", "first", "emit", #"{"name": "d"}"#).code == 0)
            try await events.line { $0.contains(#""name":"d""#) }
            #expect(try events.output.map(Self.name) == ["b", "c", "d"], "\(events.output)")
            events.process.signal(SIGTERM)
            _ = await events.process.waitForExit(timeout: testDeadline)
            try await supervisor.stop()
        }

        /// `restarted` names only its photon file: it is shown for the photon that file hosts.
        @Test func anEventNamingOnlyAFileIsShownForThePhotonsItHosts() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            let file = Paths.join(supervisor.photons.path, "first")
            _ = try await supervisor.client("call", "first", "crash")
            try await supervisor.run.line { $0.contains("restarted") && $0.contains(file) }
            _ = try await supervisor.client("call", "second", "crash")
            try await supervisor.run.line { $0.contains("restarted") && $0.contains(Paths.join(supervisor.photons.path, "second")) }
            for filter in [["--photon", "first"], ["--photon", file], ["--photon", "nobody,first"]] {
                let events = try supervisor.events(["--since", "1000", "--kind", "crashed,restarted"] + filter)
                try await events.line { $0.contains(#""event":"restarted""#) }
                let kinds = try events.output.map { try JSONValue.parse($0)["event"]?.stringValue ?? "" }
                #expect(kinds == ["crashed", "restarted"], "\(filter): \(events.output)")
                #expect(events.output.allSatisfy { $0.contains(file) }, "\(filter): \(events.output)")
                events.process.signal(SIGTERM)
                _ = await events.process.waitForExit(timeout: testDeadline)
            }
            try await supervisor.stop()
        }

        /// The kept events copied and the stream subscribed at one moment: an event emitted
        /// meanwhile is sent once, in order.
        @Test func eventsArrivingWhileTheKeptOnesAreReadAreNeitherLostNorRepeated() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            async let emitted = supervisor.client("call", "first", "emit", #"{"name": "n", "numbered": true, "count": 6000}"#)
            var clients: [CommandProcess] = []
            for _ in 0..<3 {
                let events = try supervisor.events("--since", "1000", "--kind", "photonEvent")
                try await events.line { $0.contains(#""name":"n""#) }
                clients.append(events)
            }
            #expect(try await emitted.code == 0)
            #expect(try await supervisor.client("call", "first", "emit", #"{"name": "end"}"#).code == 0)
            for events in clients {
                try await events.line { $0.contains(#""name":"end""#) }
                let numbers = try events.output.dropLast().map { try JSONValue.parse($0)["data"]?.intValue ?? -1 }
                #expect(numbers.last == 5999 && numbers == Array(numbers[0]...5999), "\(numbers.prefix(5))…\(numbers.suffix(5)), \(numbers.count) events")
                events.process.signal(SIGTERM)
                _ = await events.process.waitForExit(timeout: testDeadline)
            }
            try await supervisor.stop()
        }

        /// At most 1,000 events and 4 MiB of their text are kept; one larger than that is kept as `eventsDropped`.
        @Test func theKeptEventsAreBounded() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            #expect(try await supervisor.client("call", "first", "emit", #"{"name": "n", "numbered": true, "count": 1500}"#).code == 0)
            let all = try supervisor.events("--since", "9223372036854775807", "--kind", "photonEvent")
            try await all.line { $0.contains(#""data":1499"#) }
            #expect(all.output.count == KeptEvents.limit, "\(all.output.count) events")
            #expect(try JSONValue.parse(all.output[0])["data"] == 500)
            all.process.signal(SIGTERM)
            _ = await all.process.waitForExit(timeout: testDeadline)

            // Lines of output arrive in pieces past 64 KiB: these events stay below.
            #expect(try await supervisor.client("call", "first", "emit-many", #"{"name": "big", "count": 100, "bytes": 60000}"#).code == 0)
            #expect(try await supervisor.client("call", "first", "emit-many", #"{"name": "huge", "count": 1, "bytes": 5242880}"#).code == 0)
            let large = try supervisor.events("--since", "1000", "--kind", "photonEvent")
            try await large.line { $0.contains(#""event":"eventsDropped""#) }
            let kept = try large.output.map { try JSONValue.parse($0) }
            #expect(kept.last?["event"] == "eventsDropped" && kept.last?["count"] == 1)
            let big = large.output.dropLast()
            let fit = (KeptEvents.byteLimit - large.output.last!.utf8.count) / big[0].utf8.count
            #expect(big.count == fit && kept.dropLast().allSatisfy { $0["name"] == "big" }, "\(big.count) events kept, \(fit) fit")
            large.process.signal(SIGTERM)
            _ = await large.process.waitForExit(timeout: testDeadline)
            try await supervisor.stop()
        }

        @Test func badFiltersAreRefusedNamingWhatIsWrong() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            for (arguments, code, message) in [
                (["--since", "-1"], 64, "--since needs a whole number ≥ 0, got '-1'"),
                (["--since", "many"], 64, "--since needs a whole number ≥ 0, got 'many'"),
                (["--photon", ""], 64, "--photon has an empty item in ''"),
                (["--kind", "crashed,,loaded"], 64, "--kind has an empty item in 'crashed,,loaded'"),
                (["--kind", "exploded"], 65, "no event is of kind 'exploded' (kinds: loadStarted, loaded,"),
                (["--photon", "a b"], 65, "target 'a b' is neither a photon name"),
            ] {
                let run = try await supervisor.client(["events"] + arguments)
                #expect(run.code == Int32(code), "\(arguments): \(run.lines)")
                #expect(run.lines.contains { $0.contains(message) }, "\(arguments): \(run.lines)")
            }
            try await supervisor.stop()
        }

        /// The `name` of a photon event item.
        static func name(_ line: String) throws -> String {
            try JSONValue.parse(line)["name"]?.stringValue ?? "not a photon event: \(line)"
        }
    }
}

extension SupervisedFolder {
    /// A `luminal events --json` client with `arguments`, running until it is signalled.
    func events(_ arguments: String...) throws -> CommandProcess {
        try events(arguments)
    }

    /// A `luminal events --json` client with `arguments`, running until it is signalled.
    func events(_ arguments: [String]) throws -> CommandProcess {
        try CommandProcess(["events", "--json", "--control", control] + arguments)
    }
}
