/// Splits a byte stream into frame payloads (PROTOCOL.md §2).
///
/// Feed bytes as they arrive with `append`, take complete frames with `nextPayload()` or
/// `nextObject()` until they return `nil`, and call `finish()` at end of stream. A length header
/// is checked against 2 and `cap` as soon as its 4 bytes are buffered, before any payload byte
/// is needed. After a fault is thrown the decoder's state is unspecified: the stream is dead.
public struct FrameDecoder: Sendable {
    /// The largest payload length accepted, in bytes.
    public let cap: Int
    /// The deepest nesting `nextObject()` accepts.
    public let maxDepth: Int
    /// Received bytes; those before `readIndex` are already consumed.
    private var buffer: [UInt8] = []
    private var readIndex = 0
    /// The parser's buffers, kept from one frame to the next.
    private var workspace = JSONParser.Workspace()
    /// The most buffer capacity kept once every byte is consumed: a larger buffer, grown for a
    /// large frame or a burst, is let go then instead of being held for the stream's life.
    public static let keptCapacity = 64 * 1024

    /// A decoder that accepts payloads of at most `cap` bytes, nested at most `maxDepth` deep.
    public init(cap: Int = Frame.defaultCap, maxDepth: Int = JSONValue.defaultMaxDepth) {
        self.cap = cap
        self.maxDepth = maxDepth
    }

    /// The number of received bytes not yet returned as part of a frame.
    public var bufferedByteCount: Int { buffer.count - readIndex }

    /// Adds received bytes to the end of the stream.
    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        reclaimConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// Adds received bytes to the end of the stream.
    public mutating func append(_ bytes: [UInt8]) {
        guard !bytes.isEmpty else { return }
        reclaimConsumedBytes()
        buffer.append(contentsOf: bytes)
    }

    /// Next complete payload, or nil if more bytes are needed. Length < 2 -> badFrameLength;
    /// length > cap -> oversizeFrame, thrown as soon as the 4 header bytes are buffered (before
    /// the payload arrives or is allocated).
    public mutating func nextPayload() throws(ProtocolFault) -> [UInt8]? {
        guard let payload = try nextPayloadRange() else { return nil }
        readIndex = payload.upperBound
        return Array(buffer[payload])
    }

    /// Next payload parsed as a JSON object, its members in the order they came (no hash table
    /// for the top level); must be an object, else invalidJSON ("top level is not an object").
    /// Nil if more bytes are needed; header faults as for `nextPayload()`.
    public mutating func nextMembers() throws(ProtocolFault) -> JSONMembers? {
        try parseNext { parser throws(ProtocolFault) in try parser.parseObjectDocument() }
    }

    /// Next payload as a message from the host (what a worker reads); nil if more bytes are
    /// needed. The frames of every call are read by `MessageScan`; the faults are those of
    /// `nextMembers()` and `HostMessage(members:)`.
    public mutating func nextHostMessage() throws(ProtocolFault) -> HostMessage? {
        try parseNext { parser throws(ProtocolFault) in
            if let scan = MessageScan(&parser), let message = HostMessage(scan) { return message }
            parser.index = 0
            return try HostMessage(members: parser.parseObjectDocument())
        }
    }

    /// Next payload as a message from a worker (what the supervisor reads); as
    /// `nextHostMessage()` otherwise, with the faults of `WorkerMessage(members:)`.
    public mutating func nextWorkerMessage() throws(ProtocolFault) -> WorkerMessage? {
        try parseNext { parser throws(ProtocolFault) in
            if let scan = MessageScan(&parser), let message = WorkerMessage(scan) { return message }
            parser.index = 0
            return try WorkerMessage(members: parser.parseObjectDocument())
        }
    }

    /// `parse` of the next payload, with the parser's stack kept from the frame before; nil if
    /// more bytes are needed.
    private mutating func parseNext<Parsed>(_ parse: (inout JSONParser) throws(ProtocolFault) -> Parsed) throws(ProtocolFault) -> Parsed? {
        guard let payload = try nextPayloadRange() else { return nil }
        readIndex = payload.upperBound
        let maxDepth = maxDepth
        var space = JSONParser.Workspace()
        swap(&space, &workspace)
        let result = buffer.withUnsafeBufferPointer { bytes in
            var parser = JSONParser(bytes: UnsafeBufferPointer(rebasing: bytes[payload]), maxDepth: maxDepth)
            swap(&parser.workspace, &space)
            defer { swap(&parser.workspace, &space) }
            return Result { () throws(ProtocolFault) in try parse(&parser) }
        }
        workspace = space
        return try result.get()
    }

    /// Next payload parsed as a JSON object, as a dictionary; as `nextMembers()` otherwise.
    public mutating func nextObject() throws(ProtocolFault) -> [String: JSONValue]? {
        try nextMembers()?.dictionary
    }

    /// Lets go of the buffer's storage if every byte received is consumed (a stream that will be
    /// quiet for long, such as a worker's after its hello, then holds none).
    public mutating func releaseStorageIfConsumed() {
        guard readIndex == buffer.count else { return }
        buffer = []
        readIndex = 0
    }

    /// Call at end of stream: throws truncatedFrame if a partial frame is buffered.
    ///
    /// Call it once `nextPayload()` / `nextObject()` return `nil`; every buffered byte then
    /// belongs to an incomplete frame.
    public func finish() throws(ProtocolFault) {
        let available = bufferedByteCount
        guard available > 0 else { return }
        guard available >= Frame.headerSize else {
            throw ProtocolFault(.truncatedFrame, "end of stream after \(available) of \(Frame.headerSize) length bytes")
        }
        throw ProtocolFault(.truncatedFrame, "end of stream after \(available - Frame.headerSize) of \(payloadLength()) payload bytes")
    }

    /// The payload range of the frame at the read position, if all of it is buffered; checks
    /// the length header as soon as it is complete.
    private mutating func nextPayloadRange() throws(ProtocolFault) -> Range<Int>? {
        let available = bufferedByteCount
        if available == 0, buffer.capacity > Self.keptCapacity { releaseStorageIfConsumed() }
        guard available >= Frame.headerSize else { return nil }
        let length = payloadLength()
        guard length >= 2 else {
            throw ProtocolFault(.badFrameLength, "length \(length) is below the minimum of 2")
        }
        guard length <= cap else {
            throw ProtocolFault(.oversizeFrame, "length \(length) exceeds the cap of \(cap) bytes")
        }
        guard available - Frame.headerSize >= length else { return nil }
        let start = readIndex + Frame.headerSize
        return start..<(start + length)
    }

    /// The big-endian length header at the read position; at least 4 bytes must be buffered.
    private func payloadLength() -> Int {
        Int(buffer[readIndex]) << 24 | Int(buffer[readIndex + 1]) << 16
            | Int(buffer[readIndex + 2]) << 8 | Int(buffer[readIndex + 3])
    }

    /// Drops consumed bytes when that costs no more than the bytes consumed since the last time,
    /// so the total copying stays linear in the stream length.
    private mutating func reclaimConsumedBytes() {
        guard readIndex > 0 else { return }
        if readIndex == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            readIndex = 0
        } else if readIndex >= buffer.count - readIndex {
            buffer.removeSubrange(0..<readIndex)
            readIndex = 0
        }
    }
}
