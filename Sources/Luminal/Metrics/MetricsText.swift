/// Builds Prometheus' text exposition format (version 0.0.4): for each metric family a `# HELP`
/// and a `# TYPE` line, then its samples, one per line.
struct MetricsText: Sendable {
    /// The kind of a metric family.
    enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// A set of labels, escaped once and written into every sample that carries them.
    struct Labels: Sendable {
        /// `name="value",…`, escaped; empty for none.
        let text: String

        /// No labels.
        static let none = Labels(text: "")

        /// `pairs` in order.
        init(_ pairs: KeyValuePairs<String, String>) {
            text = pairs.map { "\($0.key)=\"\(MetricsText.escapedLabel($0.value))\"" }.joined(separator: ",")
        }

        private init(text: String) {
            self.text = text
        }
    }

    /// The text so far.
    private(set) var text = ""

    /// An empty exposition with room for about `bytes`.
    init(reserving bytes: Int = 0) {
        text.reserveCapacity(bytes)
    }

    /// Starts the family `name`; its samples follow.
    mutating func family(_ name: String, _ kind: Kind, _ help: String) {
        text += "# HELP \(name) \(Self.escapedHelp(help))\n# TYPE \(name) \(kind.rawValue)\n"
    }

    /// One sample of the current family; `extra` is a last label already escaped (`le="0.5"`).
    mutating func sample(_ name: String, _ labels: Labels, extra: String? = nil, _ value: Double) {
        text += name
        if !labels.text.isEmpty || extra != nil {
            text += "{"
            text += labels.text
            if let extra {
                if !labels.text.isEmpty { text += "," }
                text += extra
            }
            text += "}"
        }
        text += " "
        text += Self.format(value)
        text += "\n"
    }

    /// One sample with an integer value.
    mutating func sample(_ name: String, _ labels: Labels, extra: String? = nil, _ value: some BinaryInteger) {
        sample(name, labels, extra: extra, Double(value))
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
