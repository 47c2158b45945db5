import LuminalWire

/// The `luminal` command's exit statuses, each meaning one thing (documented in `luminal --help`
/// and the README).
enum ExitCode: Int32, CaseIterable {
    /// It worked.
    case success = 0
    /// The supervisor tried and failed: a call's error, a photon that would not start or load.
    case failed = 1
    /// `status --check`: a photon is not started (stopped, crashed, quarantined…).
    case unhealthy = 3
    /// No loaded photon has that name and no loaded photon file that path.
    case notFound = 4
    /// A reload failed and was rolled back: the old generation keeps serving.
    case rolledBack = 5
    /// `run`: an essential photon file could not be kept running (quarantined, or an ending its
    /// restart policy does not restart), so every photon was stopped.
    case essentialLost = 6
    /// The command line is wrong (EX_USAGE).
    case usage = 64
    /// The supervisor found the request malformed (EX_DATAERR).
    case badRequest = 65
    /// `run`: the photon folder does not exist (EX_NOINPUT).
    case noInput = 66
    /// No supervisor answers on the control socket (EX_UNAVAILABLE).
    case notRunning = 69
    /// `run`: the control socket cannot be created, e.g. another supervisor answers there (EX_CANTCREAT).
    case cannotListen = 73
    /// A limit of the control protocol was reached: too many clients, or a reply too large (EX_TEMPFAIL).
    case limitExceeded = 75
    /// The connection to the supervisor broke or carried garbage (EX_PROTOCOL).
    case connectionLost = 76
    /// The supervisor refused this user (EX_NOPERM).
    case refused = 77
    /// `call`: interrupted (Ctrl-C); the supervisor cancelled the call (128 + SIGINT).
    case interrupted = 130

    /// The exit status for a failure reply.
    init(_ code: ControlReply.Code) {
        self = switch code {
        case .badRequest: .badRequest
        case .notFound: .notFound
        case .failed: .failed
        case .rolledBack: .rolledBack
        case .refused: .refused
        case .limitExceeded: .limitExceeded
        }
    }

    /// One line for the help text.
    var explanation: String {
        switch self {
        case .success: "success"
        case .failed: "the operation failed (a call's error, a photon that would not start or load)"
        case .unhealthy: "status --check: some photon is not started or is unresponsive"
        case .notFound: "no such photon or photon file"
        case .rolledBack: "a reload failed and was rolled back; the old generation keeps serving"
        case .essentialLost: "run: an essential photon could not be kept running (quarantined, or not restarted by its policy); every photon was stopped"
        case .usage: "bad command line; top without a terminal"
        case .badRequest: "the supervisor rejected the request as malformed"
        case .noInput: "run: the photon folder does not exist"
        case .notRunning: "no supervisor answers on the control socket"
        case .cannotListen: "run: cannot create the control socket (another supervisor answers there?), listen on the --metrics address, or use the --log-dir folder"
        case .limitExceeded: "a limit of the supervisor was reached: too many clients, or a reply too large to send"
        case .connectionLost: "the connection to the supervisor broke"
        case .refused: "the supervisor refused this user"
        case .interrupted: "call: interrupted by Ctrl-C; the call was cancelled"
        }
    }
}
