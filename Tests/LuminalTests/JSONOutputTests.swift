@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// Every client command's `--json` output, against a real `luminal run`: one JSON document of
    /// the shape the README gives (one object a line for `logs` and `events`).
    @Suite struct JSONOutput {
        @Test func everyCommandPrintsOneDocumentOfItsShape() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            let first = Paths.join(supervisor.photons.path, "first")

            try await expectPhotons(supervisor, ["status"], named: ["first", "second"])
            let healthy = try await supervisor.client("status", "--check", "--json")
            #expect(healthy.code == 0 && healthy.output == ["[]"], "\(healthy.lines)")
            try await expectOutcomes(supervisor, ["stop", "first"], of: [first])
            let check = try await supervisor.client("status", "--check", "--json")
            #expect(check.code == 3)
            #expect(try check.json().arrayValue?.compactMap { $0["name"]?.stringValue } == ["first"], "\(check.lines)")
            try await expectPhotons(supervisor, ["start", "first"], named: ["first"])
            try await expectPhotons(supervisor, ["start", "--all"], named: ["first", "second"])
            try await expectPhotons(supervisor, ["restart", "first"], named: ["first"])
            try await expectPhotons(supervisor, ["restart", "--all"], named: ["first", "second"])
            try await expectPhotons(supervisor, ["reload", "first"], named: ["first"])

            let call = try await supervisor.client("call", "first", "echo", #"{"a": [1, 2]}"#, "--json")
            #expect(try call.json() == ["a": [1, 2]])
            // Members in the order of their keys, whatever order the value was built in: the
            // same value always prints the same, with --json and without.
            let mixed = #"{"f": 1, "b": {"z": 1, "y": 2, "x": 3}, "e": 2, "a": null, "d": [{"q": 1, "p": 2}], "c": "s"}"#
            let sorted = #"{"a":null,"b":{"x":3,"y":2,"z":1},"c":"s","d":[{"p":2,"q":1}],"e":2,"f":1}"#
            #expect(try await supervisor.client("call", "first", "echo", mixed, "--json").output == [sorted])
            #expect(try await supervisor.client("call", "first", "echo", mixed).output == [sorted])
            let logs = try await supervisor.client("logs", "-n", "3", "--json")
            #expect(logs.code == 0 && logs.output.count == 3)
            for line in logs.output {
                #expect(try JSONValue.parse(line)["message"]?.stringValue != nil, "\(line)")
            }
            let failure = try await supervisor.client("status", "nobody", "--json")
            #expect(failure.code == 4)
            #expect(try failure.json()["ok"] == false && failure.json()["error"]?["code"] == "notFound", "\(failure.lines)")

            // The families of the exposition, each with its type and samples.
            let metrics = try await supervisor.client("metrics", "--json")
            let families = try #require(try metrics.json().objectValue, "\(metrics.lines.prefix(3))")
            let exposition = try Exposition(try await supervisor.client("metrics").output.joined(separator: "\n") + "\n")
            #expect(Set(families.keys) == Set(exposition.types.keys))
            for (name, type) in exposition.types { #expect(families[name]?["type"]?.stringValue == type, "\(name)") }
            let up = families["luminal_photon_up"]?["samples"]?.arrayValue ?? []
            #expect(Set(up.compactMap { $0["labels"]?["photon"]?.stringValue }) == ["first", "second"])
            #expect(up.allSatisfy { $0["value"] == 1 && $0["name"] == "luminal_photon_up" }, "\(up)")
            let buckets = families["luminal_call_duration_seconds"]?["samples"]?.arrayValue ?? []
            #expect(buckets.contains { $0["name"] == "luminal_call_duration_seconds_bucket" && $0["labels"]?["le"] == "+Inf" }, "\(buckets)")

            try await expectOutcomes(supervisor, ["unload", "first"], of: [first])
            try await expectPhotons(supervisor, ["load", first], named: ["first"])
            try await supervisor.stop()
        }

        /// `stop` and `restart` act on every photon only when told `--all`.
        @Test func stopAndRestartWithoutANameAskForAll() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            for command in ["stop", "restart"] {
                let refused = try await supervisor.client(command)
                #expect(refused.code == 64)
                #expect(refused.lines.contains { $0.contains("luminal \(command): names no photon: give NAME|PATH…, or --all to \(command) every photon") }, "\(refused.lines)")
                let both = try await supervisor.client(command, "first", "--all")
                #expect(both.code == 64)
                #expect(both.lines.contains { $0.contains("not both") }, "\(both.lines)")
            }
            #expect(try await supervisor.client("status", "--check").code == 0)
            try await expectOutcomes(supervisor, ["stop", "--all"], of: ["first", "second"].map { Paths.join(supervisor.photons.path, $0) })
            #expect(try await supervisor.client("status", "--check").code == 3)
            try await expectPhotons(supervisor, ["start"], named: ["first", "second"])
            try await supervisor.stop()
        }

        /// `command --json` exits 0 and prints one array of status objects of the photons `named`.
        private func expectPhotons(_ supervisor: SupervisedFolder, _ command: [String], named names: [String]) async throws {
            let run = try await supervisor.client(command + ["--json"])
            #expect(run.code == 0, "\(command): \(run.lines)")
            let photons = try run.json().arrayValue ?? []
            #expect(photons.map { $0["name"]?.stringValue ?? "not a status object: \($0)" }.sorted() == names, "\(command): \(run.output)")
        }

        /// `command --json` exits 0 and prints one array of unload outcomes of the photon files `files`.
        private func expectOutcomes(_ supervisor: SupervisedFolder, _ command: [String], of files: [String]) async throws {
            let run = try await supervisor.client(command + ["--json"])
            #expect(run.code == 0, "\(command): \(run.lines)")
            let outcomes = try run.json().arrayValue ?? []
            #expect(outcomes.map { $0["file"]?.stringValue ?? "" }.sorted() == files, "\(command): \(run.output)")
            #expect(outcomes.allSatisfy { $0["ending"]?.stringValue != nil }, "\(command): \(run.output)")
        }
    }
}
