import LuminalWire

/// What `luminal top` read from the supervisor at one moment: the `status` of every photon and
/// the figures of `metrics`.
struct TopSample {
    /// One photon's figures.
    struct Photon {
        let name: String
        let file: String
        let state: String
        let pid: String
        let generation: String
        let restarts: String
        /// Calls ended, and those of them that did not end `ok`.
        var calls: Double = 0
        var errors: Double = 0
        /// The duration histogram: upper bound → calls that took at most that long.
        var buckets: [Double: Double] = [:]
    }

    /// When it was read, in seconds on a monotonic clock.
    let time: Double
    /// The photons by name, and the photon files that failed to load (shown by their file's
    /// name, in state `failed`) by path.
    let photons: [String: Photon]
    /// Per photon file: resident bytes and CPU seconds of its workers' trees.
    let memory: [String: Double]
    let cpu: [String: Double]

    /// Reads `status` (as JSON) and `metrics` (the exposition) taken at `time`.
    init(time: Double, status: JSONValue, metrics: String) {
        self.time = time
        var photons: [String: Photon] = [:]
        for photon in status.arrayValue ?? [] {
            let file = photon["file"]?.stringValue ?? ""
            guard let name = photon["name"]?.stringValue else {
                // A failed photon file: no photon, so nothing is measured.
                let fileName = String(file.split(separator: "/").last ?? "")
                photons[file] = Photon(name: fileName, file: file, state: Render.text(photon["state"]), pid: "-", generation: "-", restarts: "-")
                continue
            }
            let running = photon["uptime"]?.doubleValue != nil
            // A pool shows the pid of the instance it reports through and how many more there are: "812 +3".
            let others = max((photon["instances"]?.arrayValue?.count ?? 1) - 1, 0)
            let pid = running ? Render.text(photon["pid"]) + (others > 0 ? " +\(others)" : "") : "-"
            photons[name] = Photon(name: name, file: file, state: Render.text(photon["state"]),
                                   pid: pid, generation: Render.text(photon["generation"]),
                                   restarts: Render.text(photon["restarts"]))
        }
        var memory: [String: Double] = [:], cpu: [String: Double] = [:]
        for sample in MetricLine.parse(metrics) {
            let photon = sample.labels["photon"] ?? ""
            switch sample.name {
            case "luminal_calls_total":
                photons[photon]?.calls += sample.value
                if sample.labels["outcome"] != "ok" { photons[photon]?.errors += sample.value }
            case "luminal_call_duration_seconds_bucket":
                if let bound = sample.labels["le"].flatMap({ $0 == "+Inf" ? .infinity : Double($0) }) { photons[photon]?.buckets[bound] = sample.value }
            case "luminal_file_resident_memory_bytes":
                memory[sample.labels["file"] ?? ""] = sample.value
            case "luminal_file_cpu_seconds_total":
                cpu[sample.labels["file"] ?? ""] = sample.value
            default:
                break
            }
        }
        self.photons = photons
        self.memory = memory
        self.cpu = cpu
    }
}

/// One sample line of Prometheus' text format: name, labels, value.
struct MetricLine {
    let name: String
    let labels: [String: String]
    let value: Double

    /// The sample lines of `text` (comments and lines it cannot read are passed over), read scalar
    /// by scalar: a name's combining marks or CR cannot merge with the format's own characters.
    static func parse(_ text: String) -> [MetricLine] {
        text.unicodeScalars.split(separator: "\n").compactMap { line in
            guard line.first != "#", let space = line.lastIndex(of: " "), let value = Double(String(line[line.index(after: space)...])) else { return nil }
            let series = line[..<space]
            guard let open = series.firstIndex(of: "{") else { return MetricLine(name: String(series), labels: [:], value: value) }
            return MetricLine(name: String(series[..<open]), labels: labels(series[series.index(after: open)...].dropLast()), value: value)
        }
    }

    /// `a="x",b="y \"q\""` as a dictionary.
    private static func labels(_ text: Substring.UnicodeScalarView) -> [String: String] {
        var labels: [String: String] = [:]
        var rest = text
        while let equals = rest.firstIndex(of: "=") {
            let name = String(rest[..<equals])
            rest = rest[rest.index(equals, offsetBy: 2)...]
            var value = String.UnicodeScalarView()
            while let scalar = rest.first, scalar != "\"" {
                rest = rest.dropFirst()
                if scalar == "\\", let escaped = rest.first {
                    value.append(escaped == "n" ? "\n" : escaped)
                    rest = rest.dropFirst()
                } else {
                    value.append(scalar)
                }
            }
            labels[name] = String(value)
            rest = rest.dropFirst(2) // the closing quote and the comma
        }
        return labels
    }
}
