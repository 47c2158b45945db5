#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// Runs a Swift worker: says hello with its photons, answers the supervisor's requests, and exits
/// on `shutdown` or when fd 3 reaches end of file (the supervisor is gone).
public enum PhotonWorker {
    /// Serves `photons` until the supervisor lets go. Never returns.
    public static func run(_ photons: Photon...) -> Never {
        run(photons)
    }

    /// Serves `photons` until the supervisor lets go. Never returns.
    public static func run(_ photons: [Photon]) -> Never {
        guard fcntl(3, F_GETFD) != -1, fcntl(4, F_GETFD) != -1 else {
            fail(64, "this program is a Luminal photon: load it with `luminal run` or a Loader (fds 3 and 4 are not open)")
        }
        // A supervisor that ignores SIGPIPE could hand that on; a dead pipe must end us, not hang.
        signal(SIGPIPE, SIG_DFL)
        useLineBufferedStandardOutput()
        let cap = Frame.cap(fromEnvironment: getenv("LUMINAL_FRAME_CAP").map { String(cString: $0) })
        let output = FrameOutput(fd: 4, cap: cap)
        let dispatcher = RequestDispatcher(photons: photons, output: output)
        output.send(.hello(Hello(protocolVersion: WireProtocol.version, pid: Int(getpid()),
                                 runtime: "luminal-swift/1", photons: photons.map(\.descriptor),
                                 features: WireFeature.allCases.map(\.rawValue))))
        FrameReading(dispatcher: dispatcher, output: output, cap: cap).run()
    }

    static func fail(_ status: Int32, _ message: String) -> Never {
        let line = Array("luminal photon: \(message)\n".utf8)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        exit(status)
    }
}
