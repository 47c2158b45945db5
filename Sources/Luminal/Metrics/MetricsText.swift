/// Builds Prometheus' text exposition format (version 0.0.4): for each metric family a `# HELP`
/// and a `# TYPE` line, then its samples, one per line.
struct MetricsText: Sendable {
    /// The kind of a metric family.
    enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// A set of labels, escaped once and written into every sample that carries them.
    struct Labels: Sendable {
        /// `name="value",…`, escaped, as UTF-8; empty for none.
        let bytes: [UInt8]

        /// No labels.
        static let none = Labels(bytes: [])

        /// `pairs` in order.
        init(_ pairs: KeyValuePairs<String, String>) {
            bytes = Array(pairs.map { "\($0.key)=\"\(MetricsText.escapedLabel($0.value))\"" }.joined(separator: ",").utf8)
        }

        private init(bytes: [UInt8]) {
            self.bytes = bytes
        }
    }

    /// The exposition so far, as UTF-8.
    private(set) var bytes: [UInt8] = []

    /// An empty exposition with room for about `bytes`.
    init(reserving capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    /// Appends `lines` as they are: samples written before, kept (`KeptLines`).
    mutating func append(lines: ArraySlice<UInt8>) {
        bytes.append(contentsOf: lines)
    }

    /// Starts the family `name`; its samples follow.
    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        append("# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) \(kind.rawValue)\n")
    }

    /// One sample of the current family; `extra` is a last label already escaped (`le="0.5"`).
    mutating func sample(_ name: String, _ labels: Labels, extra: String? = nil, _ value: Double) {
        head(name, labels, extra: extra)
        if value == value.rounded(), abs(value) < 1e15 {
            appendInteger(Int64(value))
        } else {
            append(Self.format(value))
        }
        bytes.append(UInt8(ascii: "\n"))
    }

    /// One sample with an integer value.
    mutating func sample(_ name: String, _ labels: Labels, extra: String? = nil, _ value: some BinaryInteger) {
        guard let exact = Int64(exactly: value), abs(exact) < 1_000_000_000_000_000_000 else { return sample(name, labels, extra: extra, Double(value)) }
        head(name, labels, extra: extra)
        appendInteger(exact)
        bytes.append(UInt8(ascii: "\n"))
    }

    /// One sample of a duration, in seconds to the millisecond (written without a `Double`).
    mutating func sample(_ name: String, _ labels: Labels, _ duration: Duration) {
        head(name, labels, extra: nil)
        let milliseconds = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
        if milliseconds < 0 { bytes.append(UInt8(ascii: "-")) }
        appendInteger(abs(milliseconds) / 1000)
        let fraction = abs(milliseconds) % 1000
        bytes.append(UInt8(ascii: "."))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 100))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction / 10 % 10))
        bytes.append(UInt8(ascii: "0") + UInt8(fraction % 10))
        bytes.append(UInt8(ascii: "\n"))
    }

    /// `name{labels,extra} ` of a sample.
    private mutating func head(_ name: String, _ labels: Labels, extra: String?) {
        append(name)
        if !labels.bytes.isEmpty || extra != nil {
            bytes.append(UInt8(ascii: "{"))
            bytes.append(contentsOf: labels.bytes)
            if let extra {
                if !labels.bytes.isEmpty { bytes.append(UInt8(ascii: ",")) }
                append(extra)
            }
            bytes.append(UInt8(ascii: "}"))
        }
        bytes.append(UInt8(ascii: " "))
    }

    private mutating func append(_ string: String) {
        var string = string
        string.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Writes `value` in decimal, without making a string.
    private mutating func appendInteger(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // room for 24 digits, most significant last
        var count = 0
        withUnsafeMutableBytes(of: &digits) { room in
            repeat {
                room[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude > 0
            for index in stride(from: count - 1, through: 0, by: -1) { bytes.append(room[index]) }
        }
    }

    /// A value as the format writes it: whole numbers without a fraction, `+Inf`, `-Inf`, `NaN`.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }

    /// A label value with `\`, `"` and line feeds escaped, byte by byte (a CR LF is two bytes,
    /// and its LF is escaped like any other); every other byte is as it was, as the format allows.
    static func escapedLabel(_ value: String) -> String {
        escaped(value, quotes: true)
    }

    /// Help text with `\` and line feeds escaped, byte by byte.
    static func escapedHelp(_ value: String) -> String {
        escaped(value, quotes: false)
    }

    private static func escaped(_ value: String, quotes: Bool) -> String {
        func special(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\n") || (quotes && byte == UInt8(ascii: "\""))
        }
        guard value.utf8.contains(where: special) else { return value }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            guard special(byte) else {
                bytes.append(byte)
                continue
            }
            bytes.append(UInt8(ascii: "\\"))
            bytes.append(byte == UInt8(ascii: "\n") ? UInt8(ascii: "n") : byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
