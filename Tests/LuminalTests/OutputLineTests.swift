import Dispatch
#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Synchronization
import Testing

extension Supervisor.Output {
    /// A long line is delivered in pieces of at most `maxLineLength`, newline or not, and a line
    /// of exactly that length is one piece, not a piece and an empty line.
    @Test func longLinesArriveInPiecesOfAtMost64KiB() async throws {
        let max = OutputCapture.maxLineLength
        // "x" first, so the long line straddles the reader's 64 KiB reads.
        let text = Array("x\n".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: max + max / 2) + [UInt8(ascii: "\n")]
            + [UInt8](repeating: UInt8(ascii: "b"), count: max) + Array("\nend\n".utf8)
        let pipe = try Pipe.make()
        _ = fcntl(pipe.writeEnd, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20)) // the whole text fits: no reader yet
        let written = text.withUnsafeBytes { write(pipe.writeEnd, $0.baseAddress, $0.count) }
        #expect(written == text.count)
        closeQuietly(pipe.writeEnd)
        let queue = DispatchQueue(label: "output-line-test")
        let lines = Mutex<[String]>([])
        let capture = try OutputCapture(fd: pipe.readEnd, stream: .stdout, queue: queue) { _, line in lines.withLock { $0.append(line) } }
        queue.sync { capture.activate() }
        try await waitUntil("the pipe read to its end") { queue.sync { !capture.open } }
        #expect(lines.withLock { $0.map(\.utf8.count) } == [1, max, max / 2, max, 3])
    }
}
