#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Testing

extension PhotonFolder {
    /// A package `escaper` whose worker starts `escape`: it moves itself to the cgroup2 root,
    /// unsets `LUMINAL_WORKER`, calls `setsid` and double-forks; the grandchild, once re-parented
    /// to the supervisor and once the test wrote the control socket's path into `escaperControl`
    /// (beside the photon folder, so that a watching supervisor sees no change), writes its pid,
    /// runs `luminal status` and writes its exit code beside the control socket, then sleeps.
    func writeEscaper() {
        write("escaper/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
        script("escaper/run", "SUPERVISOR=$PPID ./escape &\nexec sleep 1021")
        write("escaper/grandchild", """
            while [ "$(cut -d' ' -f4 /proc/$$/stat)" != "$SUPERVISOR" ] || [ ! -f '\(escaperControl)' ]; do sleep 0.01; done
            control=$(cat '\(escaperControl)')
            cd "$(dirname "$control")"
            echo $$ > escaped.tmp && mv escaped.tmp escaped.pid
            '\(Paths.join(BuildProducts.directory, "luminal"))' status --control "$control" > status.out 2>&1
            echo $? > code.tmp && mv code.tmp status.code
            exec sleep 1020
            """)
        script("escaper/escape", """
            mount=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
            echo $$ > "$mount/cgroup.procs" || exit 1
            unset LUMINAL_WORKER
            export SUPERVISOR
            exec setsid sh -c '( sh ./grandchild & ); exit 0'
            """)
    }
}

extension PhotonFolder {
    /// Where the escaper finds the control socket's path: beside this folder.
    var escaperControl: String { path + ".control" }
}

extension SupervisedFolder {
    /// Tells the escaper the control socket, waits for its escaped grandchild, checks that the
    /// control socket refused it, and watches it.
    func escaped() async throws -> ProcessWatch {
        let folder = scratch.path
        let temporary = photons.escaperControl + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        try #require(fd >= 0)
        Array(control.utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
        close(fd)
        rename(temporary, photons.escaperControl)
        var code: String?
        try await waitUntil("the escaped process's luminal status finished") {
            code = (try? Paths.read(Paths.join(folder, "status.code"))).map { String(decoding: $0, as: UTF8.self).filter(\.isNumber) }
            return code != nil
        }
        let output = (try? Paths.read(Paths.join(folder, "status.out"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        #expect(code == "77", "luminal status from the escaped process exited \(code ?? "?"): \(output)")
        let pid = try #require((try? Paths.read(Paths.join(folder, "escaped.pid"))).flatMap { pid_t(String(decoding: $0, as: UTF8.self).filter(\.isNumber)) })
        let stat = try #require(Procfs.stat(pid))
        #expect(stat.ppid == run.process.pid && stat.sid != Procfs.stat(run.process.pid)?.sid)
        for name in ["status.code", "status.out", "escaped.pid"] { unlink(Paths.join(folder, name)) }
        unlink(photons.escaperControl)
        return try ProcessWatch(pid)
    }
}

extension Supervisor {
    /// A root photon's descendant that leaves everything that marks it (its cgroup, its session,
    /// its marker, its parent) is still a photon's process: refused by the control socket, killed
    /// with its photon and with the supervisor.
    @Suite struct EscapedDescendant {
        @Test(.enabled(if: getuid() == 0, "only root can move a process to the cgroup2 root"))
        func isRefusedAndKilledByUnloadAndByTheSupervisorsExit() async throws {
            let supervisor = try await SupervisedFolder { $0.writeEscaper() }
            let first = try await supervisor.escaped()
            try await supervisor.run.line { $0.contains("refused") && $0.contains("left behind") }
            #expect(try await supervisor.client("unload", "escaper").code == 0)
            try await first.awaitEnd("the escaped process killed by the unload")

            #expect(try await supervisor.client("load", Paths.join(supervisor.photons.path, "escaper")).code == 0)
            let second = try await supervisor.escaped()
            try await supervisor.stop()
            try await second.awaitEnd("the escaped process killed at the supervisor's exit")
        }
    }
}
