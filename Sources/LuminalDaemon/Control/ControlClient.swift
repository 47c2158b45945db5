#if canImport(Glibc)
import Glibc
#endif
import _LuminalCShims
import LuminalSystem
import LuminalWire

/// A client of a supervisor's control socket, as `luminal status` and friends use it.
///
/// Blocking: each call waits for the supervisor.
public final class ControlClient {
    /// Why talking to the supervisor failed (as opposed to the supervisor refusing a request).
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// True when nothing listens at the socket: no supervisor is running there.
        public let notRunning: Bool
        /// What went wrong.
        public let description: String
    }

    /// The most bytes of a reply sent in parts that the client gathers.
    public static let partsLimit = 1 << 30

    private let fd: Int32
    private var decoder = FrameDecoder(cap: ControlServer.replyCap, maxDepth: JSONValue.controlMaxDepth)
    /// The parts of a reply gathered so far.
    private var gathered: [UInt8] = []
    private let path: String

    /// Connects to the control socket at `path`.
    public init(path: String) throws(Failure) {
        self.path = path
        let socket: Int32
        do {
            socket = try UnixSocket.connect(to: path)
        } catch {
            let absent = [ENOENT, ECONNREFUSED].contains(error.errno)
            throw Failure(notRunning: absent, description: absent
                ? "no supervisor is running with control socket \(path) (\(String(cString: strerror(error.errno)))); start one with `luminal run DIR`, or name its socket with --control PATH"
                : "cannot reach the supervisor at \(path): \(error)")
        }
        // Requests carry call parameters, and replies are trusted: only a server run by this user
        // or root may hear them, whoever made the socket file (in /tmp, anyone could have).
        var pid: pid_t = 0, uid: uid_t = 0
        guard luminal_peer_credentials(socket, &pid, &uid) == 0, uid == geteuid() || uid == 0 else {
            let owner = luminal_peer_credentials(socket, &pid, &uid) == 0 ? "uid \(uid) (pid \(pid))" : "a process whose credentials cannot be read"
            closeQuietly(socket)
            throw Failure(notRunning: false, description: "the control socket \(path) is served by \(owner), neither this user nor root: nothing was sent; is another user's process listening there? name the supervisor's socket with --control PATH")
        }
        fd = socket
    }

    deinit { closeQuietly(fd) }

    /// Sends `request`. A supervisor that hung up before reading it (say, to refuse this user)
    /// may have said why: `receive()` reads that.
    public func send(_ request: ControlRequest) throws(Failure) {
        let frame = Frame.encode(request.json)
        let progress = frame.withUnsafeBytes { writeAll(fd, $0, sendFlags: Int32(MSG_NOSIGNAL)) }
        guard let failure = progress.failure, failure != EPIPE, failure != ECONNRESET else { return }
        throw lost("sending the request: \(String(cString: strerror(failure)))")
    }

    /// Waits for the next reply from the supervisor; one sent in parts (asked for with
    /// `ControlRequest.parts`) is gathered whole.
    public func receive() throws(Failure) -> ControlReply {
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            do throws(ProtocolFault) {
                if let object = try decoder.nextObject() {
                    guard case .string(let part)? = object["part"] else { return try ControlReply(object: object) }
                    gathered += part.utf8
                    guard gathered.count <= Self.partsLimit else {
                        throw ProtocolFault(.oversizeFrame, "a reply sent in parts of more than \(Self.partsLimit) bytes")
                    }
                    guard object["end"] == true else { continue }
                    defer { gathered = [] }
                    guard case .object(let whole) = try JSONValue.parse(gathered, maxDepth: JSONValue.controlMaxDepth) else {
                        throw ProtocolFault(.invalidMessage, "a reply sent in parts is not a JSON object")
                    }
                    return try ControlReply(object: whole)
                }
            } catch where error.kind == .oversizeFrame {
                throw Failure(notRunning: false, description: "the supervisor at \(path) sent a reply larger than the \(ControlServer.replyCap) bytes a control reply may hold (\(error.detail)); is it an older or different version?")
            } catch {
                throw Failure(notRunning: false, description: "the supervisor at \(path) sent a bad reply: \(error)")
            }
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                chunk.withUnsafeBytes { decoder.append(UnsafeRawBufferPointer(rebasing: $0.prefix(n))) }
            } else if n == 0 {
                throw lost("it closed the connection before replying")
            } else if errno != EINTR {
                throw lost(String(cString: strerror(errno)))
            }
        }
    }

    private func lost(_ why: String) -> Failure {
        Failure(notRunning: false, description: "lost the supervisor at \(path): \(why)")
    }
}
