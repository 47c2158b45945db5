#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Luminal

extension Supervisor {
    /// A root photon's descendant that leaves everything that marks it (its cgroup, its session,
    /// its marker, its parent) is still a photon's process: refused by the control socket, killed
    /// with its photon and with the supervisor.
    @Suite struct EscapedDescendant {
        /// A package whose worker starts `escape`: it moves itself to the cgroup2 root, unsets
        /// `LUMINAL_WORKER`, calls `setsid` and double-forks; the grandchild, once re-parented to
        /// the supervisor, writes its pid, runs `luminal status` and writes its exit code, then sleeps.
        func writeEscaper(_ photons: PhotonFolder, control: String) {
            photons.write("escaper/photon.json", #"{"exec": "run", "protocol": "none", "ready": 0.1}"#)
            photons.script("escaper/run", "SUPERVISOR=$PPID ./escape &\nexec sleep 1021")
            let grandchild = """
                while [ "$(cut -d' ' -f4 /proc/$$/stat)" != "$SUPERVISOR" ]; do sleep 0.01; done
                echo $$ > escaped.tmp && mv escaped.tmp escaped.pid
                '\(Paths.join(BuildProducts.directory, "luminal"))' status --control '\(control)' > status.out 2>&1
                echo $? > code.tmp && mv code.tmp status.code
                exec sleep 1020
                """
            photons.write("escaper/grandchild", grandchild)
            photons.script("escaper/escape", """
                mount=$(awk '{ for (i = 1; i <= NF; i++) if ($i == "-") { if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo | head -n 1)
                echo $$ > "$mount/cgroup.procs" || exit 1
                unset LUMINAL_WORKER
                export SUPERVISOR
                exec setsid sh -c '( sh ./grandchild & ); exit 0'
                """)
        }

        /// Waits for the escaped grandchild, checks that the control socket refused it, and watches it.
        func escaped(_ supervisor: SupervisedFolder) async throws -> ProcessWatch {
            let folder = Paths.join(supervisor.photons.path, "escaper")
            var code: String?
            try await waitUntil("the escaped process's luminal status finished") {
                code = (try? Paths.read(Paths.join(folder, "status.code"))).map { String(decoding: $0, as: UTF8.self).filter(\.isNumber) }
                return code != nil
            }
            let output = (try? Paths.read(Paths.join(folder, "status.out"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
            #expect(code == "77", "luminal status from the escaped process exited \(code ?? "?"): \(output)")
            let pid = try #require((try? Paths.read(Paths.join(folder, "escaped.pid"))).flatMap { pid_t(String(decoding: $0, as: UTF8.self).filter(\.isNumber)) })
            let stat = try #require(Procfs.stat(pid))
            #expect(stat.ppid == supervisor.run.process.pid && stat.sid != Procfs.stat(supervisor.run.process.pid)?.sid)
            for name in ["status.code", "status.out", "escaped.pid"] { unlink(Paths.join(folder, name)) }
            return try ProcessWatch(pid)
        }

        @Test(.enabled(if: getuid() == 0, "only root can move a process to the cgroup2 root"))
        func isRefusedAndKilledByUnloadAndByTheSupervisorsExit() async throws {
            let scratch = PhotonFolder()
            defer { scratch.remove() }
            let control = Paths.join(scratch.path, "control.sock")
            // The supervisor's control socket must be known before it starts, for the script.
            let supervisor = try await SupervisedFolder(options: ["--no-watch", "--control", control]) { writeEscaper($0, control: control) }
            func client(_ arguments: String...) async throws -> Int32 {
                let process = try CommandProcess(arguments + ["--control", control])
                guard case .exited(let code)? = try await process.finish() else { return -1 }
                return code
            }
            let first = try await escaped(supervisor)
            try await supervisor.run.line { $0.contains("refused") && $0.contains("left behind") }
            #expect(try await client("unload", "escaper") == 0)
            try await first.awaitEnd("the escaped process killed by the unload")

            #expect(try await client("load", Paths.join(supervisor.photons.path, "escaper")) == 0)
            let second = try await escaped(supervisor)
            try await supervisor.stop()
            try await second.awaitEnd("the escaped process killed at the supervisor's exit")
        }
    }
}
