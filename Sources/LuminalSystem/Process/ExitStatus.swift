/// How a process ended.
public enum ExitStatus: Sendable, Hashable, CustomStringConvertible {
    /// It called `exit` with this code.
    case exited(code: Int32)
    /// A signal ended it; `coreDumped` when the kernel wrote a core file.
    case signaled(signal: Int32, coreDumped: Bool)

    /// True for `exit(0)`.
    public var isSuccess: Bool { self == .exited(code: 0) }

    /// "exit code 3" or "signal 9 (SIGKILL)".
    public var description: String {
        switch self {
        case .exited(let code):
            return "exit code \(code)"
        case .signaled(let signal, let coreDumped):
            return "signal \(signal) (\(signalName(signal)))" + (coreDumped ? ", core dumped" : "")
        }
    }
}

/// The conventional name of a signal number, e.g. "SIGTERM".
func signalName(_ signal: Int32) -> String {
    let names: [Int32: String] = [
        1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 4: "SIGILL", 5: "SIGTRAP", 6: "SIGABRT", 7: "SIGBUS",
        8: "SIGFPE", 9: "SIGKILL", 10: "SIGUSR1", 11: "SIGSEGV", 12: "SIGUSR2", 13: "SIGPIPE",
        14: "SIGALRM", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 31: "SIGSYS",
    ]
    return names[signal] ?? "SIG\(signal)"
}
