/// Why a generation failed, in the words a supervisor's user reads.
public enum FailureClass: String, Sendable, Hashable {
    /// The process could not be started.
    case spawnError = "spawn error"
    /// No valid hello within the handshake timeout (or it exited before one).
    case handshakeTimeout = "handshake timeout"
    /// It broke the protocol and was killed.
    case protocolFault = "protocol fault"
    /// A start routine failed or the worker died while starting.
    case crashDuringStart = "crash during start"
    /// It exited (code or signal) while running.
    case runtimeCrash = "runtime crash"
    /// It stopped answering heartbeats.
    case healthCheckTimeout = "health-check timeout"
    /// Its calls kept timing out while it answered pings, for longer than its `health.unresponsive`.
    case unresponsive = "unresponsive"
    /// The kernel's OOM killer killed a process of its cgroup: it passed its memory limit.
    case outOfMemory = "out of memory (memory limit)"
    /// It used up its CPU-time limit (SIGXCPU or SIGKILL past RLIMIT_CPU).
    case cpuTimeLimit = "CPU-time limit"
}
