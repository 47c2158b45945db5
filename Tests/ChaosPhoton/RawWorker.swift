#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// A worker speaking the frames itself, for what the SDK never does: `chaos-photon raw NAME`.
///
/// Declares the one photon NAME, answers `start` and `stop` with null, `ping` with a pong, and
/// every call with the number of calls it has read so far. A call of `deafen` is answered, then
/// nothing more is read from fd 3 until SIGUSR1 arrives; a call of `numbers` with params N is
/// answered with an array of N numbers written `1e9`, which the host writes out longer
/// (`1000000000.0`). Exits 0 at `shutdown` or end of file.
func serveRaw() -> Never {
    // Blocked before the hello, so a SIGUSR1 sent once it is loaded is never lost.
    var wake = sigset_t()
    sigemptyset(&wake)
    sigaddset(&wake, SIGUSR1)
    sigprocmask(SIG_BLOCK, &wake, nil)
    writeRaw(helloFrame(version: 1))
    var decoder = FrameDecoder()
    var calls: Int64 = 0
    var chunk = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        while let object = try? decoder.nextObject() {
            guard let message = try? HostMessage(json: object) else { exit(65) }
            switch message {
            case .start(let id, _), .stop(let id, _):
                writeRaw(Frame.encode(WorkerMessage.result(id: id, value: nil).json))
            case .ping(let id):
                writeRaw(Frame.encode(WorkerMessage.pong(id: id).json))
            case .call(let id, _, let method, let params, _, _):
                calls += 1
                if method == "numbers" {
                    let numbers = Array(repeating: "1e9", count: Int(params.intValue ?? 0)).joined(separator: ",")
                    writeRaw(Frame.encode(Array(#"{"type":"result","id":\#(id),"value":[\#(numbers)]}"#.utf8)))
                    continue
                }
                writeRaw(Frame.encode(WorkerMessage.result(id: id, value: .int(calls)).json))
                if method == "deafen" {
                    var signal: Int32 = 0
                    sigwait(&wake, &signal)
                }
            case .shutdown:
                exit(0)
            case .unknown, .cancel, .hostResult, .hostError, .credit:
                break
            }
        }
        let n = chunk.withUnsafeMutableBytes { read(3, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { exit(0) }
        chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
    }
}
