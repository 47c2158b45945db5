#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import LuminalWire
import Testing

extension Supervisor {
    /// The `luminal` client commands against a real `luminal run`, over its control socket.
    @Suite struct Control {
        @Test func statusShowsEveryPhotonAsATableAndAsJSON() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            let table = try await supervisor.client("status")
            #expect(table.code == 0)
            #expect(table.output.first?.hasPrefix("NAME") == true)
            #expect(table.output.contains { $0.hasPrefix("first ") && $0.contains("started") })
            #expect(table.output.contains { $0.hasPrefix("second ") && $0.contains("started") })
            let json = try await supervisor.client("status", "--json", "second").json()
            #expect(json.arrayValue?.count == 1)
            #expect(json[0]?["name"] == "second")
            #expect(json[0]?["healthy"] == true)
            #expect(json[0]?["generation"] == 1)
            #expect(try await supervisor.client("status", "nobody").code == 4)
            try await supervisor.stop()
        }

        @Test func stopStartAndRestartWithCheckExitCodes() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            let before = try await supervisor.client("status", "--json", "first").json()[0]?["pid"]?.intValue
            #expect(try await supervisor.client("status", "--check").code == 0)
            let stop = try await supervisor.client("stop", "first")
            #expect(stop.code == 0)
            #expect(stop.output == ["stopped first (\(Paths.join(supervisor.photons.path, "first"))): clean, exit code 0"])
            let check = try await supervisor.client("status", "--check")
            #expect(check.code == 3)
            #expect(check.output == ["first: stopped"])
            #expect(try await supervisor.client("call", "second", "echo", "7").output == ["7"])

            #expect(try await supervisor.client("start", "first").code == 0)
            let started = try await supervisor.client("status", "--json", "first").json()[0]
            #expect(started?["state"] == "started")
            #expect(started?["pid"]?.intValue != before)
            #expect(try await supervisor.client("status", "--check").code == 0)

            let restarted = try await supervisor.client("restart", "--all", "--json")
            #expect(restarted.code == 0)
            let generations = try restarted.json().arrayValue?.compactMap { $0["generation"]?.intValue }
            #expect(generations?.sorted() == [2, 3])
            try await supervisor.stop()
        }

        @Test func aRestartOfEveryFileWithOneRefusedNamesTheFilesItRestarted() async throws {
            let supervisor = try await SupervisedFolder { folder in
                folder.chaos("first")
                folder.script("second/worker", "exec '\(BuildProducts.chaosPhoton)' serve second")
                folder.write("second/photon.json", #"{"exec": "worker"}"#)
            }
            let first = Paths.join(supervisor.photons.path, "first"), second = Paths.join(supervisor.photons.path, "second")
            let before = try await supervisor.client("status", "--json", "second").json()[0]?["pid"]?.intValue
            supervisor.photons.write("second/photon.json", #"{"exec": "worker", "lmits": {}}"#)
            let restart = try await supervisor.client("restart", "--all", "--json")
            #expect(restart.code == 1, "\(restart.lines)")
            let error = try restart.json()["error"]
            let message = try #require(error?["message"]?.stringValue)
            #expect(message.hasPrefix("restarted: \(first); failed: restart of \(second) refused, nothing was stopped") && message.contains("'lmits'"), "\(message)")
            #expect(error?["details"]?["done"]?[0]?[0]?["name"] == "first" && error?["details"]?["done"]?[0]?[0]?["generation"] == 2, "\(restart.lines)")
            #expect(error?["details"]?["failures"]?.arrayValue?.count == 1 && error?["details"]?["failures"]?[0]?["details"]?["file"]?.stringValue == second, "\(restart.lines)")
            // The refused file's worker serves on, untouched.
            let after = try await supervisor.client("status", "--json", "second").json()[0]
            #expect(after?["pid"]?.intValue == before && after?["state"] == "started")
            #expect(try await supervisor.client("call", "second", "echo", "7").output == ["7"])
            try await supervisor.stop()
        }

        /// Release builds once trapped here, in the task group that runs one operation per file.
        @Test func stopAndStartOverAndOverKeepTheSupervisorUp() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            for _ in 0..<8 {
                for command in [["stop", "first"], ["start", "first"], ["restart", "--all"]] {
                    let run = try await supervisor.client(command)
                    #expect(run.code == 0, "\(command): \(run.lines); the supervisor's last lines: \(supervisor.run.lines.suffix(20))")
                }
            }
            #expect(try await supervisor.client("status", "--check").code == 0)
            try await supervisor.stop()
        }

        @Test func reloadReportsSuccessAndRollback() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let reloaded = try await supervisor.client("reload", "first", "--json")
            #expect(reloaded.code == 0)
            #expect(try reloaded.json()[0]?["generation"] == 2)
            supervisor.photons.script("first", "echo broken >&2\nexit 3")
            let failed = try await supervisor.client("reload", "first", "--json")
            #expect(failed.code == 5)
            let error = try failed.json()["error"]
            #expect(error?["code"] == "rolledBack")
            #expect(error?["details"]?["step"] == "handshake")
            #expect(error?["message"]?.stringValue?.contains(Paths.join(supervisor.photons.path, "first")) == true)
            let after = try await supervisor.client("status", "--json").json()[0]
            #expect(after?["generation"] == 2)
            #expect(after?["state"] == "started")
            try await supervisor.stop()
        }

        @Test func callLoadAndUnload() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            #expect(try await supervisor.client("call", "first", "echo", #"{"a": [1, 2]}"#, "--json").json() == ["a": [1, 2]])
            #expect(try await supervisor.client("call", "first", "echo", #""plain text""#).output == ["plain text"])
            let failed = try await supervisor.client("call", "first", "fail")
            #expect(failed.code == 1)
            #expect(failed.lines.contains { $0.contains("asked to fail") && $0.contains("first") })
            #expect(try await supervisor.client("call", "nobody", "echo").code == 4)
            #expect(try await supervisor.client("call", "first", "hang", "--timeout", "0.2").code == 1)

            let extra = supervisor.scratch.chaos("extra")
            let loaded = try await supervisor.client("load", extra)
            #expect(loaded.code == 0)
            #expect(loaded.output.contains { $0.hasPrefix("extra ") && $0.contains("started") })
            #expect(try await supervisor.client("call", "extra", "echo", "1").output == ["1"])
            #expect(try await supervisor.client("load", Paths.join(supervisor.scratch.path, "missing")).code == 4)
            let again = try await supervisor.client("load", extra)
            #expect(again.code == 1)
            #expect(again.lines.contains { $0.contains("photon file \(extra) is already loaded; unload or reload it instead") }, "\(again.lines)")

            let unloaded = try await supervisor.client("unload", "extra", "--force")
            #expect(unloaded.code == 0)
            #expect(unloaded.output.first?.hasPrefix("unloaded extra") == true)
            #expect(try await supervisor.client("status", "extra").code == 4)
            try await supervisor.stop()
        }

        /// A `load` of a photon file whose first load is under way loads nothing and says so.
        @Test func loadingAFileBeingLoadedSaysSo() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let started = Paths.join(supervisor.scratch.path, "started"), go = Paths.join(supervisor.scratch.path, "go")
            let slow = supervisor.scratch.script("slow", """
                touch '\(started)'
                while [ ! -e '\(go)' ]; do sleep 0.05; done
                exec '\(BuildProducts.chaosPhoton)' serve slow
                """)
            async let first = supervisor.client("load", slow)
            try await waitUntil("the first load's worker is up") { Paths.kind(started) == .regular }
            let second = try await supervisor.client("load", slow)
            #expect(second.code == 1)
            #expect(second.lines.contains { $0.contains("photon file \(slow) is being loaded already") }, "\(second.lines)")
            _ = supervisor.scratch.write("go", "")
            let loaded = try await first
            #expect(loaded.code == 0)
            #expect(loaded.output.contains { $0.hasPrefix("slow ") && $0.contains("started") }, "\(loaded.output)")
            try await supervisor.stop()
        }

        @Test func logsShowRecentLinesAndFollow() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first"); $0.chaos("second") }
            _ = try await supervisor.client("call", "first", "print", #"{"text": "before follow"}"#)
            let recent = try await supervisor.client("logs", "first")
            #expect(recent.output.contains { $0.hasSuffix("[first] before follow") })
            #expect(!recent.output.contains { $0.contains("[second]") })
            let json = try await supervisor.client("logs", "first", "--json", "-n", "1")
            #expect(json.output.count == 1)

            // The follower subscribes before it is sent the recent line, so once that is printed it sees every new one.
            let follower = try CommandProcess(["logs", "-f", "-n", "1", "first", "--control", supervisor.control])
            try await waitUntil("the recent line") { !follower.output.isEmpty }
            _ = try await supervisor.client("call", "first", "print", #"{"text": "while following"}"#)
            try await follower.line { $0.hasSuffix("[first] while following") }

            // Events have no backlog: reload until the follower, subscribed at some point, reports one.
            let events = try CommandProcess(["events", "--json", "--control", supervisor.control])
            try await waitUntil("a reload event") {
                _ = try await supervisor.client("reload", "second")
                return events.output.contains { $0.contains(#""event":"reloaded""#) && $0.contains("second") }
            }
            follower.process.signal(SIGTERM)
            events.process.signal(SIGTERM)
            _ = try await follower.finish()
            _ = try await events.finish()
            try await supervisor.stop()
        }

        @Test func malformedAndOversizeRequestsGetAnErrorAndDisturbNothing() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            for (bytes, closes) in [(Frame.encode(Array(#"{"version": 1, "command": "explode"}"#.utf8)), false),
                                    (Frame.encode(Array("not json".utf8)), true),
                                    ([0x7F, 0xFF, 0xFF, 0xFF], true)] {
                let fd = try UnixSocket.connect(to: supervisor.control)
                defer { close(fd) }
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var decoder = FrameDecoder()
                var buffer = [UInt8](repeating: 0, count: 4096)
                var reply: [String: JSONValue]?
                while reply == nil {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    try #require(n > 0, "the supervisor hung up without replying")
                    buffer.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
                    reply = try decoder.nextObject()
                }
                guard case .failure(let failure) = try ControlReply(object: reply!) else {
                    Issue.record("expected an error reply, got \(reply!)")
                    continue
                }
                #expect(failure.code == .badRequest)
                if closes {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    #expect(n == 0)
                }
            }
            #expect(try await supervisor.client("call", "first", "echo", "1").output == ["1"])
            try await supervisor.stop()
        }

        @Test(.enabled(if: getuid() == 0, "needs root to run a client as another user"))
        func clientOfAnotherUserIsRefusedAndLogged() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            // Open the socket (and its folder) to everyone, so that only the credential check stands in the way.
            chmod(supervisor.scratch.path, 0o755)
            chmod(supervisor.control, 0o666)
            let stranger = try CommandProcess(["--reuid=65534", "--regid=65534", "--clear-groups", Paths.join(BuildProducts.directory, "luminal"),
                                               "status", "--control", supervisor.control], program: "/usr/bin/setpriv")
            let status = try await stranger.finish()
            #expect(status == .exited(code: 77))
            #expect(stranger.lines.contains { $0.contains("refused") && $0.contains("uid 65534") }, "\(stranger.lines)")
            try await supervisor.run.line { $0.contains("warning") && $0.contains("uid 65534") && $0.contains("refused") }
            #expect(try await supervisor.client("status", "--check").code == 0)
            try await supervisor.stop()
        }

        @Test func aSecondSupervisorCannotTakeTheControlSocket() async throws {
            let supervisor = try await SupervisedFolder { $0.chaos("first") }
            let other = PhotonFolder()
            defer { other.remove() }
            let second = try CommandProcess(["run", other.path, "--no-watch", "--control", supervisor.control, "--state", Paths.join(other.path, ".state")])
            #expect(try await second.finish() == .exited(code: 73))
            #expect(second.lines.contains { $0.contains("another supervisor answers") })
            #expect(try await supervisor.client("status", "--check").code == 0)
            try await supervisor.stop()
        }

        @Test func noSupervisorIsExitSixtyNine() async throws {
            let run = try await luminal("status", "--control", "/tmp/luminal-test-nobody-listens.sock")
            #expect(run.code == 69)
            #expect(run.lines.contains { $0.contains("no supervisor is running") })
        }
    }
}
