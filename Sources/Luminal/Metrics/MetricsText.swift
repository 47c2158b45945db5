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

    /// A label value with `\`, `"` and newlines escaped.
    static func escapedLabel(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else { return value }
        return value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    /// Help text with `\` and newlines escaped.
    static func escapedHelp(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\n", with: "\\n")
    }
}
