extension JSONValue {
    /// The compact UTF-8 JSON text of this value (no insignificant whitespace).
    ///
    /// Object member order is unspecified. Non-finite doubles are written as `null`.
    public func serialized() -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(64)
        write(into: &buffer)
        return buffer
    }

    /// The compact JSON text of this value with every object's members in the order of their
    /// keys (byte order), so that the same value always reads the same: what people and tools read.
    public var sortedDescription: String {
        var buffer: [UInt8] = []
        write(into: &buffer, sortingKeys: true)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// Appends the compact UTF-8 JSON text of this value to `buffer`, each object's members in the
    /// order of their keys if `sortingKeys`, else in an unspecified order.
    public func write(into buffer: inout [UInt8], sortingKeys: Bool = false) {
        switch self {
        case .null:
            JSONWriter.append("null", to: &buffer)
        case .bool(let value):
            JSONWriter.append(value ? "true" : "false", to: &buffer)
        case .int(let value):
            JSONWriter.appendInteger(value, to: &buffer)
        case .double(let value):
            JSONWriter.appendDouble(value, to: &buffer)
        case .string(let value):
            JSONWriter.appendString(value, to: &buffer)
        case .array(let elements):
            buffer.append(UInt8(ascii: "["))
            for (position, element) in elements.enumerated() {
                if position > 0 { buffer.append(UInt8(ascii: ",")) }
                element.write(into: &buffer, sortingKeys: sortingKeys)
            }
            buffer.append(UInt8(ascii: "]"))
        case .object(let members):
            if sortingKeys {
                Self.write(members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }, into: &buffer, sortingKeys: true)
            } else {
                Self.write(members, into: &buffer, sortingKeys: false)
            }
        }
    }

    private static func write<Members: Sequence<(key: String, value: JSONValue)>>(
        _ members: Members, into buffer: inout [UInt8], sortingKeys: Bool
    ) {
        buffer.append(UInt8(ascii: "{"))
        var first = true
        for (key, member) in members {
            if !first { buffer.append(UInt8(ascii: ",")) }
            first = false
            JSONWriter.appendString(key, to: &buffer)
            buffer.append(UInt8(ascii: ":"))
            member.write(into: &buffer, sortingKeys: sortingKeys)
        }
        buffer.append(UInt8(ascii: "}"))
    }
}

/// Byte-level helpers that append JSON tokens to a buffer.
enum JSONWriter {
    private static let hexDigits: StaticString = "0123456789abcdef"

    /// Appends the bytes of an ASCII literal.
    static func append(_ literal: StaticString, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// Appends the decimal digits of `value`.
    static func appendInteger(_ value: Int64, to buffer: inout [UInt8]) {
        if value < 0 { buffer.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var start = digits.count
            repeat {
                start -= 1
                digits[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// Appends the shortest round-trip text of a finite `value`, or `null` if it is not finite.
    static func appendDouble(_ value: Double, to buffer: inout [UInt8]) {
        guard value.isFinite else {
            append("null", to: &buffer)
            return
        }
        buffer.append(contentsOf: value.description.utf8)
    }

    /// Appends `value` as a quoted JSON string, escaping `"`, `\` and control characters.
    ///
    /// The bytes are read through their base pointer in a plain loop: `enumerated()` makes
    /// unspecialized generic calls per byte in a debug build, where a photon emitting 16 MiB of
    /// event data spent 5.6 s of CPU here.
    static func appendString(_ value: String, to buffer: inout [UInt8]) {
        var value = value
        buffer.append(UInt8(ascii: "\""))
        value.withUTF8 { bytes in
            var position = 0
            while position < bytes.count {
                let end = JSONPlainRun.end(in: bytes, from: position)
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[position..<end]))
                guard end < bytes.count else { return }
                appendEscape(bytes[end], to: &buffer)
                position = end + 1
            }
        }
        buffer.append(UInt8(ascii: "\""))
    }

    private static func appendEscape(_ byte: UInt8, to buffer: inout [UInt8]) {
        buffer.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): buffer.append(byte)
        case 0x08: buffer.append(UInt8(ascii: "b"))
        case 0x09: buffer.append(UInt8(ascii: "t"))
        case 0x0A: buffer.append(UInt8(ascii: "n"))
        case 0x0C: buffer.append(UInt8(ascii: "f"))
        case 0x0D: buffer.append(UInt8(ascii: "r"))
        default:
            append("u00", to: &buffer)
            buffer.append(hexDigits.utf8Start[Int(byte >> 4)])
            buffer.append(hexDigits.utf8Start[Int(byte & 0x0F)])
        }
    }
}
