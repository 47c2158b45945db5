/// Frame encoding (PROTOCOL.md §2): a 4-byte big-endian payload length, then the payload.
public enum Frame {
    /// The default frame cap: the largest payload accepted, 16 MiB.
    public static let defaultCap: Int = 16 * 1024 * 1024
    /// The size of the length header in bytes.
    public static let headerSize = 4

    /// The frame for `payload`: its length header followed by the payload bytes.
    ///
    /// - Precondition: `payload.count` fits in 32 bits.
    public static func encode(_ payload: some Collection<UInt8>) -> [UInt8] {
        let length = payload.count
        var frame: [UInt8] = []
        frame.reserveCapacity(headerSize + length)
        frame.append(contentsOf: repeatElement(0, count: headerSize))
        frame.append(contentsOf: payload)
        writeHeader(into: &frame)
        return frame
    }

    /// The frame whose payload is the compact JSON text of `value`, serialized in place after
    /// the header.
    ///
    /// - Precondition: the serialized payload fits in 32 bits.
    public static func encode(_ value: JSONValue) -> [UInt8] {
        var frame: [UInt8] = []
        frame.reserveCapacity(128)
        frame.append(contentsOf: repeatElement(0, count: headerSize))
        value.write(into: &frame)
        writeHeader(into: &frame)
        return frame
    }

    /// Fills the first four bytes of `frame` with the length of the bytes after them.
    static func writeHeader(into frame: inout [UInt8]) {
        let length = frame.count - headerSize
        precondition(length <= Int(UInt32.max), "frame payload of \(length) bytes does not fit a 32-bit length")
        frame[0] = UInt8(truncatingIfNeeded: length >> 24)
        frame[1] = UInt8(truncatingIfNeeded: length >> 16)
        frame[2] = UInt8(truncatingIfNeeded: length >> 8)
        frame[3] = UInt8(truncatingIfNeeded: length)
    }
}
