#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import LuminalWire

/// What to run for one worker generation.
package struct SpawnRequest: Sendable {
    /// Absolute path of the program.
    package var executable: String
    /// Arguments after argv[0] (argv[0] is `executable`).
    package var arguments: [String]
    /// The complete environment of the worker.
    package var environment: [String: String]
    /// The worker's working directory.
    package var workingDirectory: String
    /// Whether fds 3 and 4 carry the protocol; a plain executable gets only 0–2.
    package var protocolPipes = true
    /// The cgroup, limits and identity the child applies before the photon runs.
    package var contained = ContainedSpawn.none
    /// Listening sockets the worker gets in order from `firstSocketFD` (PROTOCOL.md §1.1).
    package var sockets: [Int32] = []
    /// A variable of `environment` that the child sets to its own pid before it execs
    /// (`LISTEN_PID`), which only the child knows; its value here is replaced.
    package var pidVariable: String?

    package init(executable: String, arguments: [String], environment: [String: String], workingDirectory: String, protocolPipes: Bool = true,
                 contained: ContainedSpawn = .none, sockets: [Int32] = [], pidVariable: String? = nil) {
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.protocolPipes = protocolPipes
        self.contained = contained
        self.sockets = sockets
        self.pidVariable = pidVariable
    }

    /// The worker's fd of its first socket: 3 for a plain executable, 5 past the protocol's pipes.
    package var firstSocketFD: Int32 { Self.firstSocketFD(protocolPipes: protocolPipes) }

    /// The fd of the first socket of a worker with (or without) the protocol's pipes; the
    /// descriptors it is handed are those below it, and one per socket.
    package static func firstSocketFD(protocolPipes: Bool) -> Int32 { protocolPipes ? HeldSockets.firstFD : 3 }
}

/// A spawned worker: its pid and pidfd, and the supervisor's ends of its four pipes.
package struct SpawnedProcess: Sendable {
    /// The worker's pid, which is also its process group id.
    package let pid: pid_t
    /// A pidfd for the worker: signals and exit without PID-reuse races.
    package let pidfd: Int32
    /// Write end of the worker's fd 3 (host → worker frames); -1 for a plain executable.
    package let toWorker: Int32
    /// Read end of the worker's fd 4 (worker → host frames); -1 for a plain executable.
    package let fromWorker: Int32
    /// Read end of the worker's stdout.
    package let stdout: Int32
    /// Read end of the worker's stderr.
    package let stderr: Int32
}

/// Spawns workers, following the process rules in ARCHITECTURE.md §4 (and PROTOCOL.md §1).
package enum Spawner {
    /// Spawns `request` with fds 0–4 wired as the protocol requires, its sockets after them, and
    /// nothing else inherited.
    ///
    /// The child gets an empty signal mask and default dispositions for every signal (a child of a
    /// Dispatch or Swift-concurrency thread otherwise inherits blocked TERM/INT/HUP and an ignored
    /// SIGPIPE), a session and so a process group of its own (its whole group can be signalled, and
    /// nothing it starts can join the supervisor's group), and SIGKILL as its parent-death signal:
    /// it dies with the supervisor, even one killed outright.
    package static func spawn(_ request: SpawnRequest) throws(SystemError) -> SpawnedProcess {
        var opened: [Int32] = []
        // Every source fd sits above every target, so that no dup3 onto a target overwrites a source still needed.
        let closeFrom = request.firstSocketFD + Int32(request.sockets.count)
        func pipe() throws(SystemError) -> Pipe {
            let made = try Pipe.make()
            let ends = try [made.readEnd, made.writeEnd].map { fd throws(SystemError) in try lifted(fd, above: closeFrom) }
            opened += ends
            return Pipe(readEnd: ends[0], writeEnd: ends[1])
        }
        do throws(SystemError) {
            let out = try pipe(), err = try pipe()
            let unused = Pipe(readEnd: -1, writeEnd: -1)
            let hostToWorker = request.protocolPipes ? try pipe() : unused
            let workerToHost = request.protocolPipes ? try pipe() : unused
            var childFDs = [(out.writeEnd, Int32(1)), (err.writeEnd, 2)]
            if request.protocolPipes { childFDs += [(hostToWorker.readEnd, 3), (workerToHost.writeEnd, 4)] }
            let socketCopies = try request.sockets.map { fd throws(SystemError) in try copied(fd, above: closeFrom) }
            defer { socketCopies.forEach(closeQuietly) }
            childFDs += socketCopies.enumerated().map { ($0.element, request.firstSocketFD + Int32($0.offset)) }
            let input = try emptyInput(above: closeFrom)
            defer { closeQuietly(input) }
            let pid = try ChildRegistry.shared.spawning { () throws(SystemError) -> pid_t in
                try containedSpawn(request, request.contained, childFDs: [(input, 0)] + childFDs, closeFrom: closeFrom)
            }
            let pidfd = luminal_pidfd_open(pid)
            if pidfd < 0 {
                let failure = SystemError(errno: errno, "pidfd_open \(pid)")
                _ = kill(pid, SIGKILL)
                var status: Int32 = 0
                _ = waitpid(pid, &status, 0)
                ChildRegistry.shared.forget(pid)
                throw failure
            }
            for fd in [hostToWorker.readEnd, workerToHost.writeEnd, out.writeEnd, err.writeEnd] { closeQuietly(fd) }
            return SpawnedProcess(pid: pid, pidfd: pidfd, toWorker: hostToWorker.writeEnd,
                                  fromWorker: workerToHost.readEnd, stdout: out.readEnd, stderr: err.readEnd)
        } catch {
            opened.forEach(closeQuietly)
            throw error
        }
    }

    /// The worker's standard input, at end of file from the start: `/dev/null`, or where there is
    /// none (a root holding only the static binary and its photons) the read end of a pipe whose
    /// write end is closed at once.
    private static func emptyInput(above floor: Int32) throws(SystemError) -> Int32 {
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        if devNull >= 0 { return try lifted(devNull, above: floor) }
        let empty = try Pipe.make()
        closeQuietly(empty.writeEnd)
        return try lifted(empty.readEnd, above: floor)
    }

    /// Moves `fd` to `floor` or above (closing it where it was) so that no `dup3` onto a target
    /// below can overwrite a source still needed.
    private static func lifted(_ fd: Int32, above floor: Int32) throws(SystemError) -> Int32 {
        if fd >= floor { return fd }
        defer { closeQuietly(fd) }
        return try copied(fd, above: floor)
    }

    /// A close-on-exec copy of `fd` at `floor` or above.
    private static func copied(_ fd: Int32, above floor: Int32) throws(SystemError) -> Int32 {
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, floor)
        if copy == -1 { throw SystemError(errno: errno, "fcntl(F_DUPFD_CLOEXEC)") }
        return copy
    }
}

extension Spawner {
    /// Spawns `request` with `luminal_spawn_contained` on the spawn thread: created in its cgroup,
    /// with its limits, identity and parent-death signal applied before the photon runs.
    fileprivate static func containedSpawn(_ request: SpawnRequest, _ contained: ContainedSpawn, childFDs: [(Int32, Int32)],
                                           closeFrom: Int32) throws(SystemError) -> pid_t {
        var cgroupFD: Int32 = -1
        if let cgroup = contained.cgroup {
            cgroupFD = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            guard cgroupFD >= 0 else { throw SystemError(errno: errno, "open \(cgroup)") }
        }
        defer { closeQuietly(cgroupFD) }
        let descriptor = cgroupFD
        let (pid, failure, step) = SpawnThread.shared.run { () -> (pid_t, Int32, String?) in
            let argv = CStringArray([request.executable] + request.arguments)
            var environment = request.environment
            // Room for any pid (the kernel's pid_max is at most 2^22: 7 digits) and its NUL.
            if let variable = request.pidVariable { environment[variable] = String(repeating: "0", count: 11) }
            let envp = CStringArray(environment.map { "\($0.key)=\($0.value)" }.sorted())
            let pidEntry = request.pidVariable.flatMap { variable in
                envp.pointers.first { $0.map { String(cString: $0).hasPrefix(variable + "=") } ?? false } ?? nil
            }
            let sources = childFDs.map(\.0), targets = childFDs.map(\.1)
            let resources = contained.limits.map(\.resource), soft = contained.limits.map { UInt64($0.soft) }, hard = contained.limits.map { UInt64($0.hard) }
            let groups = contained.identity?.groups ?? []
            var failedStep: UnsafePointer<CChar>?
            let pid = request.executable.withCString { path in
                request.workingDirectory.withCString { cwd in
                    var plan = luminal_spawn_plan()
                    plan.path = path
                    plan.cwd = cwd
                    plan.fd_count = Int32(childFDs.count)
                    plan.close_from = closeFrom
                    plan.cgroup_fd = descriptor
                    plan.rlimit_count = Int32(resources.count)
                    plan.umask = contained.umask.map { Int32($0) } ?? -1
                    plan.group_count = contained.identity == nil ? -1 : Int32(groups.count)
                    plan.gid = contained.identity.map { Int($0.gid) } ?? -1
                    plan.uid = contained.identity.map { Int($0.uid) } ?? -1
                    plan.no_new_privs = contained.noNewPrivileges ? 1 : 0
                    plan.death_signal = SIGKILL
                    plan.parent = getpid()
                    plan.pid_value = pidEntry.map { $0 + request.pidVariable!.utf8.count + 1 }
                    return argv.pointers.withUnsafeBufferPointer { argvPointers in
                        envp.pointers.withUnsafeBufferPointer { envpPointers in
                            sources.withUnsafeBufferPointer { sourcePointers in
                                targets.withUnsafeBufferPointer { targetPointers in
                                    resources.withUnsafeBufferPointer { resourcePointers in
                                        soft.withUnsafeBufferPointer { softPointers in
                                            hard.withUnsafeBufferPointer { hardPointers in
                                                groups.withUnsafeBufferPointer { groupPointers in
                                                    plan.argv = argvPointers.baseAddress
                                                    plan.envp = envpPointers.baseAddress
                                                    plan.fd_sources = sourcePointers.baseAddress
                                                    plan.fd_targets = targetPointers.baseAddress
                                                    plan.rlimit_resources = resourcePointers.baseAddress
                                                    plan.rlimit_soft = softPointers.baseAddress
                                                    plan.rlimit_hard = hardPointers.baseAddress
                                                    plan.groups = groupPointers.baseAddress
                                                    return luminal_spawn_contained(&plan, &failedStep)
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            return (pid, errno, failedStep.map { String(cString: $0) })
        }
        guard pid > 0 else { throw SystemError(errno: failure, "spawn \(request.executable) (\(step ?? "start"))") }
        return pid
    }
}

/// A NULL-terminated array of C strings that lives as long as this value.
private final class CStringArray {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    deinit {
        pointers.forEach { free($0) }
    }
}
