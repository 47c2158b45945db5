import Glibc
import Testing
@testable import Luminal

/// `luminal run` on a folder of photons, with its control socket and state file in a scratch
/// folder of their own. Whatever happens in the test, the folders go when it is released.
final class SupervisedFolder: Sendable {
    let photons = PhotonFolder()
    let scratch = PhotonFolder()
    let run: CommandProcess

    var control: String { Paths.join(scratch.path, "control.sock") }

    /// Writes the photons with `prepare`, starts `luminal run` on them with `options`, and waits
    /// until they are up.
    init(options: [String] = ["--no-watch"], environment: [String: String] = [:], _ prepare: (PhotonFolder) -> Void) async throws {
        prepare(photons)
        let control = Paths.join(scratch.path, "control.sock")
        run = try CommandProcess(["run", photons.path, "--control", control, "--state", Paths.join(scratch.path, "state")] + options,
                                 environment: environment)
        try await run.line { $0.contains("photons started from") }
    }

    deinit {
        run.process.signal(SIGKILL) // a no-op once stop() has run
        photons.remove()
        scratch.remove()
    }

    /// Runs a client command against this supervisor.
    func client(_ arguments: String...) async throws -> ClientRun {
        let process = try CommandProcess(arguments + ["--control", control])
        let status = try await process.finish()
        return ClientRun(status: status, output: process.output, lines: process.lines)
    }

    /// Stops the supervisor with SIGTERM, expecting exit 0.
    func stop() async throws {
        run.process.signal(SIGTERM)
        #expect(await run.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
    }
}
