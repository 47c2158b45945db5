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
        output.send(WorkerMessage.hello(Hello(protocolVersion: WireProtocol.version, pid: Int(getpid()),
                                              runtime: "luminal-swift/1", photons: photons.map(\.descriptor))).json)
        var decoder = FrameDecoder(cap: cap)
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(3, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            // End of file (or a broken fd 3): the supervisor is gone or let us go.
            if n <= 0 { _exit(0) }
            chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            do throws(ProtocolFault) {
                while let object = try decoder.nextObject() {
                    dispatcher.handle(try HostMessage(json: object))
                }
            } catch {
                fail(70, "bad frame from the supervisor: \(error)")
            }
        }
    }

    static func fail(_ status: Int32, _ message: String) -> Never {
        let line = Array("luminal photon: \(message)\n".utf8)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
        exit(status)
    }
}
