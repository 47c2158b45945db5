#if canImport(Glibc)
import Glibc
#endif
@testable import LuminalSystem
import Testing

extension Supervisor.RunCommand {
    /// In a root without `/dev` (a mount namespace of its own with an empty tmpfs on it, as a root
    /// holding only the static binary and its photons has none), `luminal run` still starts its
    /// workers: their standard input is an empty pipe instead of `/dev/null`.
    @Test(.enabled(if: getuid() == 0, "a mount namespace needs root"))
    func workersStartWhereThereIsNoDevNull() async throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        folder.chaos("bare")
        folder.write("job/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
        // A plain executable reading its standard input sees its end at once.
        folder.script("job/run", "read -r line; echo \"stdin ended: $?\"\nexec sleep 3600")
        let control = Paths.join(folder.path, ".control")
        let run = try CommandProcess(["--fork", "--pid", "--mount-proc", "--kill-child", "/bin/sh", "-c",
                                      "mount -t tmpfs luminal-no-dev /dev && exec \"$0\" \"$@\"",
                                      Paths.join(BuildProducts.directory, "luminal"), "run", "--no-watch",
                                      "--state", Paths.join(folder.path, ".state"), "--control", control, folder.path],
                                     program: "/usr/bin/unshare")
        let started = try await run.line { $0.contains("photons started from") }
        #expect(started.contains("2 of 2 photons started"), "\(run.lines)")
        try await run.line { $0.contains("[job] stdin ended: 1") }
        let reply = try await luminal("call", "bare", "echo", #"{"x": 1}"#, "--control", control)
        #expect(reply.code == 0 && reply.output == [#"{"x":1}"#], "\(reply.lines)")
        let supervisor = try #require(Procfs.childPIDs(of: run.process.pid).first)
        kill(supervisor, SIGTERM)
        #expect(await run.process.waitForExit(timeout: testDeadline) == .exited(code: 0))
    }
}
