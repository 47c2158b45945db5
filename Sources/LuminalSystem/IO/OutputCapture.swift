import Dispatch
#if canImport(Glibc)
import Glibc
#endif

/// Which of a worker's output streams a line came from.
public enum OutputStream: String, Sendable, Hashable {
    /// fd 1.
    case stdout
    /// fd 2.
    case stderr
}

/// Drains one of a worker's output pipes into lines, so a worker never blocks on its output.
/// The event loop wakes it; reading happens on the worker's queue.
///
/// A line longer than `maxLineLength` bytes is delivered in pieces of at most that size, cut
/// between UTF-8 characters; invalid UTF-8 is repaired with U+FFFD. Callbacks run on the worker's queue.
package final class OutputCapture: @unchecked Sendable {
    /// Longest line delivered in one piece.
    static let maxLineLength = 64 * 1024

    // Confined to `queue`: `partial`, `continued`, `open`, `token`.
    private var partial: [UInt8] = []
    /// Whether a piece of the current line has been delivered already.
    private var continued = false
    private(set) var open = true
    private var token: EventLoop.Token?
    private let turn = QueuedTurn()
    private let fd: Int32
    private let stream: OutputStream
    private let queue: DispatchQueue
    private let onLine: @Sendable (OutputStream, String) -> Void

    /// Starts reading `fd` (made non-blocking).
    package init(fd: Int32, stream: OutputStream, queue: DispatchQueue,
         onLine: @escaping @Sendable (OutputStream, String) -> Void) throws(SystemError) {
        try setNonBlocking(fd)
        self.fd = fd
        self.stream = stream
        self.queue = queue
        self.onLine = onLine
    }

    /// Starts watching the fd. Call on the queue.
    package func activate() {
        token = EventLoop.shared.add(fd) { [weak self] in self?.queueTurn() }
        readAvailable()
    }

    deinit {
        if open {
            token.map(EventLoop.shared.remove)
            closeQuietly(fd)
        }
    }

    /// Reads everything available now and delivers complete lines. Call on the queue.
    package func readAvailable() {
        _ = read(reads: .max)
    }

    /// Queues a read turn, unless one is queued already.
    private func queueTurn() {
        guard turn.claim() else { return }
        queue.async { [weak self] in self?.readTurn() }
    }

    /// Reads one turn's worth; what is left is read in the queue's later turns.
    private func readTurn() {
        turn.begin()
        if read(reads: ReadTurn.outputReadsPerTurn) { queueTurn() }
    }

    /// Reads up to `reads` chunks and delivers their complete lines: true if more may be waiting.
    private func read(reads: Int) -> Bool {
        dispatchPrecondition(condition: .onQueue(queue))
        guard open else { return false }
        let turn = readChunks(fd, reads: reads) { bytes in
            split(bytes[...])
            return true
        }
        switch turn {
        case .more: return true
        case .exhausted, .stopped: return false
        case .end, .failed:
            close()
            return false
        }
    }

    private func split(_ bytes: Slice<UnsafeRawBufferPointer>) {
        var rest = bytes
        while let newline = firstNewline(in: rest) {
            partial += rest[..<newline]
            rest = rest[rest.index(after: newline)...]
            emitFullPieces()
            // The line's last piece; none when its earlier pieces took all of it.
            if !partial.isEmpty || !continued { emit(partial) }
            partial.removeAll(keepingCapacity: true)
            continued = false
        }
        partial += rest
        emitFullPieces()
    }

    /// The index of the first line feed in `bytes`, found by `memchr`: the generic
    /// `firstIndex(of:)` costs an unspecialized call per byte in a debug build, where 128 MiB of
    /// output took 20 s of the supervisor's CPU (and as much of a test's reading it back).
    private func firstNewline(in bytes: Slice<UnsafeRawBufferPointer>) -> Int? {
        guard let base = bytes.base.baseAddress, !bytes.isEmpty else { return nil }
        let found = memchr(base + bytes.startIndex, Int32(UInt8(ascii: "\n")), bytes.count)
        return found.map { UnsafeRawPointer($0) - base }
    }

    /// Delivers the held part of the current line in pieces of at most `maxLineLength`, keeping
    /// the rest; a piece never ends inside a UTF-8 character (`pieceEnd`).
    private func emitFullPieces() {
        while partial.count >= Self.maxLineLength {
            let end = Self.pieceEnd(partial)
            emit(partial[..<end])
            partial.removeFirst(end)
            continued = true
        }
    }

    /// Where a piece of `bytes` (at least `maxLineLength` of them) ends: at `maxLineLength`,
    /// or up to 3 bytes before it when a multi-byte UTF-8 sequence starts there and would end
    /// past it, so that the character goes whole into the next piece. Invalid bytes are cut
    /// anywhere (each becomes U+FFFD as before).
    static func pieceEnd(_ bytes: [UInt8]) -> Int {
        let limit = maxLineLength
        var start = limit - 1
        // Back to the lead byte of the sequence the last byte of the piece belongs to.
        while start > limit - 4, bytes[start] & 0xC0 == 0x80 { start -= 1 }
        let lead = bytes[start]
        let length = lead & 0xE0 == 0xC0 ? 2 : lead & 0xF0 == 0xE0 ? 3 : lead & 0xF8 == 0xF0 ? 4 : 1
        return start + length > limit && length > 1 ? start : limit
    }

    private func emit(_ bytes: some Collection<UInt8>) {
        var line = String(decoding: bytes, as: UTF8.self)
        if line.hasSuffix("\r") { line.removeLast() }
        onLine(stream, line)
    }

    private func close() {
        open = false
        if !partial.isEmpty {
            emit(partial)
            partial = []
        }
        token.map(EventLoop.shared.remove)
        closeQuietly(fd)
    }
}
