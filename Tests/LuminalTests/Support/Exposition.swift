/// Prometheus' text exposition format (0.0.4), checked line by line the way its parser reads it.
struct Exposition {
    /// One sample line.
    struct Sample: Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    let samples: [Sample]
    /// The type of each family.
    let types: [String: String]

    /// Parses `text`; throws naming the first line that breaks the format or its conventions.
    init(_ text: String) throws {
        guard text.hasSuffix("\n") else { throw ProbeError("the exposition does not end with a newline") }
        var samples: [Sample] = [], types: [String: String] = [:], helps: Set<String> = [], seen: Set<String> = []
        // Lines end at every LF byte, as Prometheus reads them: a CR LF inside a name is no
        // single character here.
        let lines = text.dropLast().unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map { Substring(String($0)) }
        for (number, line) in lines.enumerated() {
            func fail(_ why: String) -> ProbeError { ProbeError("line \(number + 1) '\(line)': \(why)") }
            if line.hasPrefix("# HELP ") {
                let name = String(line.dropFirst(7).prefix { $0 != " " })
                guard Self.isName(name), helps.insert(name).inserted, types[name] == nil else { throw fail("a HELP that is repeated, after TYPE, or badly named") }
            } else if line.hasPrefix("# TYPE ") {
                let fields = line.dropFirst(7).split(separator: " ")
                guard fields.count == 2, Self.isName(String(fields[0])), ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(fields[1])),
                      types[String(fields[0])] == nil, !samples.contains(where: { Self.family(of: $0.name, types) == String(fields[0]) }) else {
                    throw fail("a bad or repeated TYPE, or one after its samples")
                }
                types[String(fields[0])] = String(fields[1])
            } else if line.hasPrefix("#") || line.isEmpty {
                throw fail("not a HELP, TYPE or sample line")
            } else {
                let sample = try Self.sample(line, fail)
                guard let family = Self.family(of: sample.name, types) else { throw fail("a sample whose family has no TYPE before it") }
                if types[family] == "counter", !family.hasSuffix("_total") { throw fail("a counter not named _total") }
                if types[family] == "counter", sample.value < 0 { throw fail("a negative counter") }
                let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}"
                guard seen.insert(key).inserted else { throw fail("the series appears twice") }
                samples.append(sample)
            }
        }
        self.samples = samples
        self.types = types
        try checkHistograms()
    }

    /// The value of the one sample named `name` whose labels include `labels`.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let matching = samples.filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
        return matching.count == 1 ? matching[0].value : nil
    }

    /// Buckets rise with `le`, and the `+Inf` bucket equals the count.
    private func checkHistograms() throws {
        for (family, type) in types where type == "histogram" {
            var series: [[String: String]: [(Double, Double)]] = [:]
            for sample in samples where sample.name == family + "_bucket" {
                guard let le = sample.labels["le"], let bound = Double(le == "+Inf" ? "inf" : le) else { throw ProbeError("\(family): a bucket without a numeric le") }
                series[sample.labels.filter { $0.key != "le" }, default: []].append((bound, sample.value))
            }
            for (labels, buckets) in series {
                guard buckets.map(\.0) == buckets.map(\.0).sorted(), buckets.map(\.1) == buckets.map(\.1).sorted() else {
                    throw ProbeError("\(family)\(labels): buckets out of order or not cumulative")
                }
                guard buckets.last?.0 == .infinity, value(family + "_count", labels) == buckets.last?.1, value(family + "_sum", labels) != nil else {
                    throw ProbeError("\(family)\(labels): no +Inf bucket equal to _count, or no _sum")
                }
            }
        }
    }

    private static func family(of name: String, _ types: [String: String]) -> String? {
        if types[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" || types[base] == "summary" { return base }
        }
        return nil
    }

    private static func isName(_ name: String) -> Bool {
        func allowed(_ byte: UInt8, first: Bool) -> Bool {
            (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ":") || (!first && byte >= 48 && byte <= 57)
        }
        guard let first = name.utf8.first, allowed(first, first: true) else { return false }
        return name.utf8.allSatisfy { allowed($0, first: false) }
    }

    private static func sample(_ line: Substring, _ fail: (String) -> ProbeError) throws -> Sample {
        var rest = line[...]
        let name = String(rest.prefix { $0 != "{" && $0 != " " })
        guard isName(name) else { throw fail("a bad metric name") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0 != "=" })
                guard isName(label), !label.hasPrefix("__"), labels[label] == nil else { throw fail("a bad or repeated label name") }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { throw fail("a label without =\"") }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    if character == "\\" {
                        guard let escaped = rest.first, "\\\"n".contains(escaped) else { throw fail("a bad escape in a label value") }
                        value.append(escaped == "n" ? "\n" : escaped)
                        rest = rest.dropFirst()
                    } else {
                        guard character != "\n" else { throw fail("a newline in a label value") }
                        value.append(character)
                    }
                }
                guard rest.first == "\"" else { throw fail("an unterminated label value") }
                rest = rest.dropFirst()
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("labels not separated by commas") }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw fail("no space before the value") }
        let text = String(rest.dropFirst())
        guard let value = text == "+Inf" ? .infinity : text == "-Inf" ? -.infinity : Double(text), !text.contains(" ") else { throw fail("a value that is not a number") }
        return Sample(name: name, labels: labels, value: value)
    }
}
