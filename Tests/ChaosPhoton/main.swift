#if canImport(Glibc)
import Glibc
#endif
import LuminalPhoton
import Synchronization

// A photon for the test suite, misbehaving on demand: `chaos-photon MODE [NAME]`.

// What the spawn gave this process, read before any SDK code runs.
let startupStatus = readText("/proc/self/status")
let startupFDs = openFDs()
let startupCgroup = readText("/proc/self/cgroup")
let startupLimits = readText("/proc/self/limits")
/// Calls served by `tally` in this process.
let served = Atomic<Int>(0)
let arguments = CommandLine.arguments
let mode = arguments.count > 1 ? arguments[1] : "serve"
let name = arguments.count > 2 ? arguments[2] : "chaos"

switch mode {
case "serve": PhotonWorker.run(servingPhoton(name))
case "multi": PhotonWorker.run(servingPhoton(name + "-a"), servingPhoton(name + "-b"),
                               Photon(name + "-other", kinds: ["Other"]).method("echo") { params, _ in params })
case "no-base": PhotonWorker.run(Photon(name, kinds: ["Other"]))
case "many":
    // `chaos-photon many NAME COUNT`: a hello declaring COUNT photons NAME-0, NAME-1, …
    PhotonWorker.run((0..<(arguments.count > 3 ? Int(arguments[3]) ?? 1 : 1)).map { Photon("\(name)-\($0)") })
case "bad-name": PhotonWorker.run(Photon("bad name!"))
case "slow-stop": PhotonWorker.run(servingPhoton(name).onStop { _ in try await Task.sleep(for: .seconds(3600)) })
case "crash-on-start": PhotonWorker.run(servingPhoton(name).onStart { _ in abort() })
case "exit-now":
    say("chaos: exiting at once", fd: 2)
    exit(3)
case "exit-zero": exit(0)
case "no-hello": waitForever()
case "crash-mid-handshake":
    // Half a hello frame, then a crash: the exit is what counts, not the torn frame.
    let frame = helloFrame(version: 1)
    writeRaw(Array(frame.prefix(frame.count / 2)))
    abort()
case "wrong-version":
    writeRaw(helloFrame(version: 99))
    waitForever()
case "ignore-term":
    signal(SIGTERM, SIG_IGN)
    writeRaw(helloFrame(version: 1))
    waitForever()
case "raw": serveRaw()
case "spin":
    // Says hello, then burns the CPU on the only thread: nothing reads fd 3, no ping is answered.
    writeRaw(helloFrame(version: 1))
    spinForever()
default:
    say("chaos: unknown mode \(mode)", fd: 2)
    exit(64)
}

/// The photon most tests talk to: echoes, fails, crashes, spawns children, reports its process facts.
func servingPhoton(_ name: String) -> Photon {
    Photon(name, author: "tests", version: "1.0.0", description: "chaos photon", tags: ["test"])
        .onStart { _ in say("\(name) started") }
        .onStop { _ in say("\(name) finalizer ran, served \(served.load(ordering: .relaxed))") }
        .method("echo") { params, _ in params }
        .method("tally") { params, _ in
            // Counts the calls this generation served, reported by the finalizer.
            served.add(1, ordering: .relaxed)
            return ["params": params, "pid": .int(Int64(getpid()))]
        }
        .method("fail") { _, _ in throw PhotonError(.photonError, "asked to fail", data: ["why": "test"]) }
        .method("fail-with") { params, _ in
            // The error's data is the params' `data` as given: absent, null or a value.
            throw PhotonError(.photonError, "asked to fail", data: params.objectValue?["data"])
        }
        .method("deep") { params, context in
            // A value of `depth` nested arrays, as the result, the error's data or an event's data.
            var value = JSONValue.array([])
            for _ in 1..<max(1, params["depth"]?.intValue ?? 1) { value = .array([value]) }
            switch params["as"]?.stringValue {
            case "error": throw PhotonError(.photonError, "deep error", data: value)
            case "event": context.emit("deep", value); return nil
            default: return value
            }
        }
        .method("bad-params") { _, _ in throw PhotonError.invalidParams("params are wrong") }
        .method("sleep") { params, _ in
            try await Task.sleep(for: .milliseconds(params["ms"]?.intValue ?? 100))
            return "slept"
        }
        .method("hang") { _, _ in try await Task.sleep(for: .seconds(3600)); return nil }
        .method("block") { params, _ in
            // Holds the thread it runs on for `ms` without suspending (the SDK's reading thread, as
            // nothing here suspends); says so on stdout first; returns the `tally` calls served meanwhile.
            let before = served.load(ordering: .relaxed)
            say("\(name) blocking")
            blockThread(milliseconds: Int(params["ms"]?.intValue ?? 100))
            return .int(Int64(served.load(ordering: .relaxed) - before))
        }
        .method("crash") { params, _ in
            if let code = params["exit"]?.intValue { exit(Int32(code)) }
            abort()
        }
        .method("print") { params, _ in
            let text = params["text"]?.stringValue ?? "hello"
            say(text, fd: params["stderr"]?.boolValue == true ? 2 : 1)
            return nil
        }
        .method("flood") { params, _ in
            // Writes this many bytes to stdout, newlines only if asked, in 64 KiB writes.
            let total = Int(params["bytes"]?.intValue ?? 0)
            let chunk = [UInt8](repeating: UInt8(ascii: "x"), count: 64 * 1024)
            var written = 0
            while written < total {
                let n = chunk.withUnsafeBytes { write(1, $0.baseAddress, min($0.count, total - written)) }
                if n <= 0 { break }
                written += n
            }
            return .int(Int64(written))
        }
        .method("lines") { params, _ in
            for index in 0..<(params["count"]?.intValue ?? 0) { say("line \(index)") }
            return nil
        }
        .method("emit") { params, context in
            // With "numbered": true, each event's data is its number, from 0.
            let numbered = params["numbered"]?.boolValue == true
            for number in 0..<(params["count"]?.intValue ?? 1) {
                context.emit(params["name"]?.stringValue ?? "tick", numbered ? .int(number) : params["data"] ?? nil)
            }
            return nil
        }
        .method("emit-many") { params, context in
            // Emits `count` events named `name`, each carrying a string of `bytes` bytes.
            let data = JSONValue.string(String(repeating: "x", count: Int(params["bytes"]?.intValue ?? 0)))
            for _ in 0..<(params["count"]?.intValue ?? 0) { context.emit(params["name"]?.stringValue ?? "flood", data) }
            return nil
        }
        .method("inspect") { _, _ in
            .object(["pid": .int(Int64(getpid())), "pgid": .int(Int64(getpgrp())),
                     "status": .string(startupStatus), "cgroup": .string(startupCgroup), "limits": .string(startupLimits),
                     "fds": .array(startupFDs.map { .int(Int64($0)) }),
                     "environment": .array(environmentNames().map(JSONValue.string))])
        }
        .method("spawn-child") { params, _ in
            .int(Int64(spawnSleeper(newSession: params["setsid"]?.boolValue ?? false,
                                    unmarked: params["unmarked"]?.boolValue ?? false)))
        }
        .method("spawn-daemon") { _, _ in .int(Int64(spawnDaemon())) }
        .method("escape") { _, _ in .int(Int64(spawnEscapee())) }
        .method("run") { params, _ in
            // Runs `argv` (a program this photon starts) and returns its exit code and output.
            let argv = params["argv"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let (code, output) = runCapturing(argv)
            return .object(["code": .int(Int64(code)), "output": .string(output)])
        }
        .method("leak") { params, _ in
            // Leaks `mibPerSecond` MiB a second (touched, so resident) from now on, in tenths of a second.
            startLeaking(mibPerSecond: Int(params["mibPerSecond"]?.intValue ?? 10))
            return nil
        }
        .method("mark") { params, _ in
            // Appends the call's token to a log shared by every worker: a call run twice shows twice.
            let fd = open(params["log"]?.stringValue ?? "/dev/null", O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            defer { close(fd) }
            let token = params["token"]?.intValue ?? -1
            say("\(token)", fd: fd)
            return .int(token)
        }
        .method("spin") { _, _ in spinForever() }
        .method("host") { params, context in
            // Calls the host function `function` with `params`; its result is the result, its error the error.
            try await context.host.call(params["function"]?.stringValue ?? "", params["params"] ?? nil)
        }
        .method("call") { params, context in
            // Calls `method` of photon `photon` with `params` through the host, `timeout` seconds at most.
            try await context.call(params["photon"]?.stringValue ?? "", params["method"]?.stringValue ?? "", params["params"] ?? nil,
                                   timeout: params["timeout"]?.doubleValue.map { .milliseconds(Int64($0 * 1000)) })
        }
        .method("stream") { params, context in
            // Sends `count` parts, each a string of `bytes` bytes, then returns how many it sent and
            // the nanoseconds it spent waiting to send them (waiting for credit, mostly).
            let part = JSONValue.string(String(repeating: "x", count: Int(params["bytes"]?.intValue ?? 1)))
            var waited: Int64 = 0
            let count = params["count"]?.intValue ?? 0
            for _ in 0..<count {
                let began = monotonicNanoseconds()
                try await context.sendPart(part)
                waited += monotonicNanoseconds() - began
            }
            return ["sent": .int(count), "waited_ns": .int(waited)]
        }
        .method("parallel-parts") { params, context in
            // `senders` tasks each send `count` parts ([sender, index]) at once, then "done".
            let senders = params["senders"]?.intValue ?? 4, count = params["count"]?.intValue ?? 50
            try await withThrowingTaskGroup(of: Void.self) { group in
                for sender in 0..<senders {
                    group.addTask { for index in 0..<count { try await context.sendPart([.int(sender), .int(index)]) } }
                }
                try await group.waitForAll()
            }
            return "done"
        }
        .method("numbered-parts") { params, context in
            // Sends the parts 0, 1, … count-1, then returns "done"; with `fail`, throws instead.
            for index in 0..<(params["count"]?.intValue ?? 0) { try await context.sendPart(.int(index)) }
            if params["fail"]?.boolValue == true { throw PhotonError(.photonError, "failed after the parts") }
            return "done"
        }
        .method("host-rounds") { params, context in
            // `count` host calls one after the other (`echo` of photon `photon` through the host if
            // given, else the host function `function`); the nanoseconds each took.
            var took: [JSONValue] = []
            for _ in 0..<(params["count"]?.intValue ?? 0) {
                let began = monotonicNanoseconds()
                if let photon = params["photon"]?.stringValue {
                    _ = try await context.call(photon, "echo", nil)
                } else {
                    _ = try await context.host.call(params["function"]?.stringValue ?? "", nil)
                }
                took.append(.int(monotonicNanoseconds() - began))
            }
            return .array(took)
        }
        .method("await-cancel") { _, context in
            // Emits (and prints) `running`, then waits for the host's cancel; the cancellation
            // handler emits `observed` with the CLOCK_MONOTONIC nanoseconds at which it ran.
            try await withTaskCancellationHandler {
                context.emit("running")
                say("\(name) running")
                try await Task.sleep(for: .seconds(3600))
            } onCancel: {
                context.emit("observed", .int(monotonicNanoseconds()))
                say("\(name) observed the cancel")
            }
            return nil
        }
        .method("spin-until-cancelled") { params, context in
            // Leaves the reading thread unless `stay` (a sleep: `Task.yield()` inside the SDK's
            // `Task.immediate` goes on on the same thread), emits `running`, then keeps a CPU busy
            // until the call is cancelled; emits `stopped` with the CLOCK_MONOTONIC nanoseconds it
            // stopped at.
            if params["stay"]?.boolValue != true { try await Task.sleep(for: .milliseconds(1)) }
            context.emit("running", .int(Int64(getpid())))
            let turns = Atomic<UInt64>(0)
            while !Task.isCancelled { turns.add(1, ordering: .relaxed) }
            context.emit("stopped", .int(monotonicNanoseconds()))
            throw CancellationError()
        }
        .method("deadline") { _, context in
            // The milliseconds left before the call's deadline, or null without one.
            guard let deadline = context.deadline else { return nil }
            let left = ContinuousClock.now.duration(to: deadline).components
            return .int(left.seconds * 1000 + left.attoseconds / 1_000_000_000_000_000)
        }
        .method("give-up") { params, context in
            // Gives up at once if the deadline is less than `ms` away.
            try context.checkDeadline(margin: .milliseconds(params["ms"]?.intValue ?? 0))
            return "finished"
        }
        .method("once", idempotent: true) { params, context in
            // The first call across generations (the file `marker` does not exist yet) creates the
            // marker, then crashes (`"crash"`) or emits `hanging` and hangs; later calls answer
            // with this worker's pid.
            let marker = params["marker"]?.stringValue ?? "/dev/null"
            let fd = open(marker, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            guard fd >= 0 else { return .int(Int64(getpid())) }
            close(fd)
            if params["action"]?.stringValue == "crash" { abort() }
            context.emit("hanging", .int(Int64(getpid())))
            try await Task.sleep(for: .seconds(3600))
            return nil
        }
        .method("crash-always", idempotent: true) { _, _ in abort() }
        .method("pid", idempotent: true) { _, _ in .int(Int64(getpid())) }
        .method("hog") { params, _ in allocateUntilKilled(limitMiB: params["limitMiB"]?.intValue ?? 256) }
        .method("raw") { params, _ in
            // Writes bytes straight onto fd 4, bypassing the SDK: for protocol-fault tests.
            writeRaw(hexBytes(params["hex"]?.stringValue ?? ""))
            if params["close"]?.boolValue == true {
                // Close the protocol end but keep running: replies now vanish into /dev/null.
                let null = open("/dev/null", O_WRONLY)
                dup2(null, 4)
                close(null)
            }
            return nil
        }
}

/// CLOCK_MONOTONIC now, in nanoseconds: comparable across the processes of one machine.
func monotonicNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}

/// Writes a line to stdout or stderr, unbuffered.
func say(_ text: String, fd: Int32 = 1) {
    Array((text + "\n").utf8).withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
}

func writeRaw(_ bytes: [UInt8]) {
    bytes.withUnsafeBytes { _ = write(4, $0.baseAddress, $0.count) }
}

func hexBytes(_ hex: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = hex.startIndex
    while index < hex.endIndex, let next = hex.index(index, offsetBy: 2, limitedBy: hex.endIndex) {
        bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

func waitForever() -> Never {
    while true { pause() }
}

/// A hello for one photon `name` of kind IPhoton, speaking protocol `version`, as a whole frame.
func helloFrame(version: Int) -> [UInt8] {
    Frame.encode(WorkerMessage.hello(Hello(protocolVersion: version, pid: Int(getpid()), runtime: "chaos",
                                           photons: [PhotonDescriptor(name: name, kinds: ["IPhoton"])])).json)
}

/// Blocks the calling thread in `poll(2)` for `milliseconds`, however often a signal interrupts it.
func blockThread(milliseconds: Int) {
    let clock = ContinuousClock()
    let end = clock.now + .milliseconds(milliseconds)
    while clock.now < end {
        let left = clock.now.duration(to: end)
        _ = poll(nil, 0, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1))
    }
}

/// Keeps one CPU at 100% on the calling thread until the process is ended.
func spinForever() -> Never {
    let turns = Atomic<UInt64>(0)
    while true { turns.add(1, ordering: .relaxed) }
}

/// Caps this process's address space at its current size plus `limitMiB`, then allocates and
/// touches 1 MiB blocks until an allocation fails and the runtime kills the process. The cap keeps
/// the machine safe: the process dies long before the system runs short of memory.
func allocateUntilKilled(limitMiB: Int64) -> Never {
    let pages = readText("/proc/self/statm").split(separator: " ").first.flatMap { Int($0) } ?? 0
    let limit = rlim_t(pages * Int(sysconf(Int32(_SC_PAGESIZE))) + Int(limitMiB) << 20)
    var cap = rlimit(rlim_cur: limit, rlim_max: limit)
    setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &cap)
    var blocks: [[UInt8]] = []
    while true { blocks.append([UInt8](repeating: UInt8(blocks.count & 0xFF), count: 1 << 20)) }
}

/// Starts a thread that allocates and touches `mibPerSecond` MiB every second, forever.
func startLeaking(mibPerSecond: Int) {
    var thread = pthread_t()
    let step = UnsafeMutablePointer<Int>.allocate(capacity: 1)
    step.pointee = max(1, mibPerSecond << 20 / 10)
    pthread_create(&thread, nil, { argument in
        let bytes = argument!.assumingMemoryBound(to: Int.self).pointee
        // Kept reachable, so that it stays resident.
        var leaked: [UnsafeMutableRawPointer] = []
        while true {
            let block = malloc(bytes)!
            memset(block, 0x5A, bytes)
            leaked.append(block)
            usleep(100_000)
        }
    }, step)
    pthread_detach(thread)
}

func readText(_ path: String) -> String {
    guard let file = fopen(path, "r") else { return "" }
    defer { fclose(file) }
    var text = ""
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), file) != nil {
        text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
    return text
}

func openFDs() -> [Int32] {
    guard let dir = opendir("/proc/self/fd") else { return [] }
    let own = dirfd(dir)
    var fds: [Int32] = []
    while let entry = readdir(dir) {
        // In place, up to the NUL: the record is shorter than the 256-byte d_name field.
        let text = String(cString: UnsafeRawPointer(entry).advanced(by: MemoryLayout<dirent>.offset(of: \dirent.d_name)!)
            .assumingMemoryBound(to: CChar.self))
        if let fd = Int32(text), fd != own { fds.append(fd) }
    }
    closedir(dir)
    return fds.sorted()
}

/// Starts `sleep 3600` as a child, optionally in a new session (so it leaves our process group).
/// Starts `sleep 3600` as a child, in a session of its own with `newSession`, and without the
/// supervisor's LUMINAL_WORKER marker in its environment with `unmarked` (a process hiding from it).
func spawnSleeper(newSession: Bool, unmarked: Bool = false) -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    if newSession { posix_spawnattr_setflags(&attributes, Int16(0x80)) } // POSIX_SPAWN_SETSID
    return spawn(["/bin/sleep", "3600"], attributes: &attributes, hidingMarker: unmarked)
}

/// Starts a double-forked daemon (`setsid sleep` in the background of a shell that exits at once)
/// and returns its pid; the daemon is re-parented away from this worker.
func spawnDaemon() -> pid_t {
    spawnReportingPID(["/bin/sh", "-c", "setsid sleep 3600 </dev/null >/dev/null 2>&1 & echo $!"])
}

/// A grandchild that does all it can to leave the worker's tree: it runs without the worker's
/// marker, in a session of its own, and its parent exits (double fork); its pid is returned.
func spawnEscapee() -> pid_t {
    spawnReportingPID(["/bin/sh", "-c", "setsid /bin/sh -c 'sleep 3600 </dev/null >/dev/null 2>&1 & echo $!'"], hidingMarker: true)
}

/// Runs `argv` to its end with stdout and stderr captured; returns its exit code and output.
func runCapturing(_ argv: [String], hidingMarker: Bool = false) -> (Int32, String) {
    var fds: [Int32] = [0, 0]
    _ = pipe(&fds)
    // Close-on-exec, so a process it leaves behind does not hold the write end and the read below sees EOF.
    fds.forEach { _ = fcntl($0, F_SETFD, FD_CLOEXEC) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    let child = spawn(argv, actions: &actions, attributes: &attributes, hidingMarker: hidingMarker)
    close(fds[1])
    let output = readText("/proc/self/fd/\(fds[0])")
    close(fds[0])
    var status: Int32 = 0
    waitpid(child, &status, 0)
    return ((status >> 8) & 0xFF, output)
}

/// Runs `argv`, which prints the pid of a process it leaves behind, and returns that pid.
func spawnReportingPID(_ argv: [String], hidingMarker: Bool = false) -> pid_t {
    pid_t(runCapturing(argv, hidingMarker: hidingMarker).1.trimmingCharacters()) ?? -1
}

func spawn(_ argv: [String], actions: UnsafeMutablePointer<posix_spawn_file_actions_t>? = nil,
           attributes: inout posix_spawnattr_t, hidingMarker: Bool = false) -> pid_t {
    let cArgs = argv.map { strdup($0) } + [nil]
    defer { cArgs.forEach { free($0) } }
    var environment: [UnsafeMutablePointer<CChar>?] = []
    var cursor = environ
    while let entry = cursor.pointee {
        if !(hidingMarker && String(cString: entry).hasPrefix("LUMINAL_WORKER=")) { environment.append(entry) }
        cursor += 1
    }
    environment.append(nil)
    var pid: pid_t = 0
    _ = posix_spawn(&pid, argv[0], actions, &attributes, cArgs, environment)
    return pid
}

extension String {
    func trimmingCharacters() -> String {
        String(self.filter { !$0.isWhitespace })
    }
}

/// The names of this process's environment variables.
func environmentNames() -> [String] {
    var names: [String] = []
    var entry = environ
    while let pointer = entry.pointee {
        names.append(String(String(cString: pointer).prefix { $0 != "=" }))
        entry += 1
    }
    return names
}
