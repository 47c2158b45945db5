import LuminalWire

/// `luminal metrics --json`: Prometheus' text exposition format (0.0.4), as the supervisor writes
/// it, read into one JSON object.
///
/// `{"luminal_calls_total": {"type": "counter", "help": "…", "samples": [{"name":
/// "luminal_calls_total", "labels": {"photon": "a", "outcome": "ok"}, "value": 3}]}, …}`: a member
/// per family, its samples in the exposition's order (a histogram's are its `_bucket`, `_sum` and
/// `_count` lines, hence each sample's own `name`). A value is a JSON number, or the string
/// `"+Inf"`, `"-Inf"` or `"NaN"`, which JSON has no number for.
enum ExpositionJSON {
    /// The families of `text`. Lines that are neither a `# HELP`, a `# TYPE` nor a sample are
    /// left out; the supervisor writes none.
    static func families(of text: String) -> JSONValue {
        var families: [String: Family] = [:]
        // Lines end at LF bytes only: a label value's line feed is escaped (`\n`), a CR is not.
        for line in text.utf8.split(separator: UInt8(ascii: "\n")).map({ String(decoding: $0, as: UTF8.self) }) {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let rest = line.dropFirst(7)
                let name = String(rest.prefix { $0 != " " })
                let value = String(rest.dropFirst(name.count + 1))
                if line.hasPrefix("# HELP ") { families[name, default: Family()].help = unescaped(value) } else { families[name, default: Family()].type = value }
            } else if !line.hasPrefix("#"), let sample = Sample(line) {
                families[family(of: sample.name, in: families), default: Family()].samples.append(sample.json)
            }
        }
        return .object(families.mapValues(\.json))
    }

    /// One family as it is gathered.
    private struct Family {
        var type = "untyped"
        var help = ""
        var samples: [JSONValue] = []

        var json: JSONValue { ["type": .string(type), "help": .string(help), "samples": .array(samples)] }
    }

    /// One sample line: `name{label="value",…} value`.
    private struct Sample {
        let name: String
        let labels: [String: JSONValue]
        let value: JSONValue

        init?(_ line: String) {
            let bytes = Array(line.utf8)
            guard let end = bytes.firstIndex(where: { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: " ") }) else { return nil }
            name = String(decoding: bytes[..<end], as: UTF8.self)
            var labels: [String: JSONValue] = [:], position = end
            if bytes[position] == UInt8(ascii: "{") {
                position += 1
                while position < bytes.count, bytes[position] != UInt8(ascii: "}") {
                    guard let equals = bytes[position...].firstIndex(of: UInt8(ascii: "=")), equals + 1 < bytes.count,
                          bytes[equals + 1] == UInt8(ascii: "\"") else { return nil }
                    let key = String(decoding: bytes[position..<equals], as: UTF8.self)
                    var value: [UInt8] = [], cursor = equals + 2
                    while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "\"") {
                        if bytes[cursor] == UInt8(ascii: "\\"), cursor + 1 < bytes.count {
                            cursor += 1
                            value.append(bytes[cursor] == UInt8(ascii: "n") ? UInt8(ascii: "\n") : bytes[cursor])
                        } else {
                            value.append(bytes[cursor])
                        }
                        cursor += 1
                    }
                    guard cursor < bytes.count else { return nil }
                    labels[key] = .string(String(decoding: value, as: UTF8.self))
                    position = cursor + 1
                    if position < bytes.count, bytes[position] == UInt8(ascii: ",") { position += 1 }
                }
                position += 1
            }
            let number = String(decoding: bytes[min(position, bytes.count)...], as: UTF8.self).split(separator: " ").first.map(String.init) ?? ""
            switch number {
            case "+Inf", "-Inf", "NaN": value = .string(number)
            default:
                guard let parsed = Double(number), parsed.isFinite else { return nil }
                value = parsed == parsed.rounded() && abs(parsed) < 1e15 ? .int(Int64(parsed)) : .double(parsed)
            }
            self.labels = labels
        }

        var json: JSONValue { ["name": .string(name), "labels": .object(labels), "value": value] }
    }

    /// The family a sample belongs to: its own name, or a histogram's or summary's whose
    /// `_bucket`, `_sum` or `_count` it is.
    private static func family(of name: String, in families: [String: Family]) -> String {
        guard families[name] == nil else { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if ["histogram", "summary"].contains(families[base]?.type) { return base }
        }
        return name
    }

    /// Help text with its `\\` and `\n` escapes undone.
    private static func unescaped(_ text: String) -> String {
        var bytes: [UInt8] = [], escaping = false
        for byte in text.utf8 {
            if escaping {
                bytes.append(byte == UInt8(ascii: "n") ? UInt8(ascii: "\n") : byte)
                escaping = false
            } else if byte == UInt8(ascii: "\\") {
                escaping = true
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
