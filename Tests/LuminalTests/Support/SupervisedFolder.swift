#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Testing

/// `luminal run` on a folder of photons, with its control socket and state file in a scratch
/// folder of their own. Whatever happens in the test, the folders go when it is released.
final class SupervisedFolder: Sendable {
    let photons = PhotonFolder()
    let scratch = PhotonFolder()
    let run: CommandProcess

    /// The user the supervisor runs as, when not the test's: its clients run as that user too (a
    /// client talks only to a supervisor of its own user or root).
    let uid: uid_t?

    var control: String { Paths.join(scratch.path, "control.sock") }

    /// Writes the photons with `prepare`, starts `luminal run` on them with `options`, and waits
    /// until they are up (with `awaitingStartup`, the default: until it says how many started).
    /// With `uid` (the test runs as root), the supervisor runs as that user, with its folders
    /// opened to it: a supervisor without the privilege to make cgroups.
    init(options: [String] = ["--no-watch"], environment: [String: String] = [:], awaitingStartup: Bool = true, uid: uid_t? = nil,
         _ prepare: (PhotonFolder) -> Void) async throws {
        prepare(photons)
        self.uid = uid
        let control = Paths.join(scratch.path, "control.sock")
        let arguments = ["run", photons.path, "--control", control, "--state", Paths.join(scratch.path, "state")] + options
        if let uid {
            chmod(photons.path, 0o755)
            // Its own: it writes its control socket and state file only in a folder no one else can write.
            chown(scratch.path, uid, gid_t(uid))
            chmod(scratch.path, 0o755)
            run = try CommandProcess(["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", Paths.join(BuildProducts.directory, "luminal")] + arguments,
                                     program: "/usr/bin/setpriv", environment: environment)
        } else {
            run = try CommandProcess(arguments, environment: environment)
        }
        if awaitingStartup { try await run.line { $0.contains("photons started from") } }
    }

    deinit {
        run.process.signal(SIGKILL) // a no-op once stop() has run
        photons.remove()
        scratch.remove()
    }

    /// Runs a client command against this supervisor.
    func client(_ arguments: String...) async throws -> ClientRun {
        try await client(arguments)
    }

    /// Runs a client command against this supervisor.
    func client(_ arguments: [String]) async throws -> ClientRun {
        let process = try uid.map { uid in
            try CommandProcess(["--reuid=\(uid)", "--regid=\(uid)", "--clear-groups", Paths.join(BuildProducts.directory, "luminal")] + arguments + ["--control", control],
                               program: "/usr/bin/setpriv")
        } ?? CommandProcess(arguments + ["--control", control])
        let status = try await process.finish()
        return ClientRun(status: status, output: process.output, lines: process.lines)
    }

    /// The pid of photon `name` once `status` shows it started, waiting for that.
    func startedPID(_ name: String) async throws -> Int64 {
        var pid: Int64?
        try await waitUntil("\(name) started") {
            let status = try? await client("status", "--json", name).json()
            pid = status?[0]?["state"] == "started" ? status?[0]?["pid"]?.intValue : nil
            return pid != nil
        }
        return pid!
    }

    /// A `luminal events --json` client, returned once it is subscribed: once an event photon
    /// `photon` emits (`ready`, through its `emit` method) has reached it.
    func subscribedEvents(through photon: String) async throws -> CommandProcess {
        let events = try CommandProcess(["events", "--json", "--control", control])
        try await waitUntil("the events client subscribed") {
            _ = try await client("call", photon, "emit", #"{"name": "ready"}"#)
            return events.output.contains { $0.contains(#""name":"ready""#) }
        }
        return events
    }

    /// Stops the supervisor with SIGTERM, expecting exit 0.
    func stop() async throws {
        run.process.signal(SIGTERM)
        let status = await run.process.waitForExit(timeout: testDeadline)
        #expect(status == .exited(code: 0), "luminal run ended with \(status.map { "\($0)" } ?? "no exit"); its last lines: \(run.lines.suffix(30))")
    }
}
