#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims

/// Spawning a program without Luminal: /dev/null for fds 0, 1 and 2 and nothing else open, so a
/// photon finds no protocol pipes and exits at once. The baseline of the load benchmarks.
enum BareSpawn {
    /// Spawns `path` with `arguments` and returns its pid; its stderr is `stderr` if given.
    static func spawn(_ path: String, _ arguments: [String] = [], stderr: Int32? = nil) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
        if let stderr { posix_spawn_file_actions_adddup2(&actions, stderr, 2) }
        _ = luminal_spawn_addclosefrom(&actions, 3)
        var pid = pid_t()
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        guard posix_spawn(&pid, path, &actions, nil, argv, environ) == 0 else { fail("cannot spawn \(path)") }
        return pid
    }

    /// Waits for `pid` to exit.
    static func reap(_ pid: pid_t) {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}
