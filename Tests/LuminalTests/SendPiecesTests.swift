#if canImport(Glibc)
import Glibc
#endif
@testable import LuminalSystem
import Testing

/// `sendPieces`: several buffers sent as one stream, resumed at any offset after the socket
/// would block, up to an end that may fall inside any piece.
@Suite struct SendPiecesRule {
    /// A connected pair of stream sockets, the sending one non-blocking with a small buffer.
    private func pair() throws -> (send: Int32, receive: Int32) {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0)
        var size: Int32 = 4096
        setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        return (fds[0], fds[1])
    }

    /// Sends `pieces` up to `end`, reading from the other side whenever the socket would block;
    /// returns what arrived.
    private func transfer(_ pieces: [[UInt8]], to end: Int) throws -> [UInt8] {
        let (sender, receiver) = try pair()
        defer { close(sender); close(receiver) }
        var offset = 0
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1000)
        while true {
            let progress = sendPieces(sender, pieces, from: offset, to: end, flags: Int32(MSG_DONTWAIT | MSG_NOSIGNAL))
            #expect(progress.offset >= offset && progress.offset <= end)
            offset = progress.offset
            guard let failure = progress.failure else { break }
            try #require(failure == EAGAIN)
            let count = chunk.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, 0) }
            try #require(count > 0)
            received += chunk[..<count]
        }
        shutdown(sender, Int32(SHUT_WR))
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(receiver, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += chunk[..<count]
        }
        return received
    }

    @Test func piecesArriveInOrderWholeOrUpToAnEndInsideAnyPiece() throws {
        let pieces: [[UInt8]] = [Array("HTTP/1.1 200 OK\r\n\r\n".utf8), [], (0..<100_000).map { UInt8($0 % 251) }, Array("tail\n".utf8)]
        let whole = pieces.flatMap { $0 }
        #expect(try transfer(pieces, to: whole.count) == whole)
        for end in [0, 1, 19, 20, 21, 50_000, whole.count - 1] {
            #expect(try transfer(pieces, to: end) == Array(whole[..<end]), "up to \(end)")
        }
    }
}
