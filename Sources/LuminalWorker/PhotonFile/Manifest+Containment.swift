#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

extension Manifest {
    /// The keys of `limits`, each with what it takes.
    static let limitKeys = ["memory", "cpu", "tasks", "files", "core", "cpu_time"]
    /// The keys of `recycle`.
    static let recycleKeys = ["memory", "calls", "age", "interval"]

    /// Reads `limits`, `user`, `group`, `umask`, `no_new_privileges`, `recycle` and `control`
    /// into `file`.
    static func parseContainment(_ object: [String: JSONValue], into file: inout PhotonFile, invalid: (String) -> LoaderError) throws(LoaderError) {
        if let limits = object["limits"] { file.limits = try parseLimits(limits, invalid: invalid) }
        for key in ["user", "group"] {
            guard let value = object[key] else { continue }
            guard let text = value.stringValue ?? value.intValue.map(String.init), !text.isEmpty, !text.utf8.contains(0) else {
                throw invalid("key '\(key)' must be a \(key) name or a numeric id, without a NUL character")
            }
            if key == "user" { file.identity.user = text } else { file.identity.group = text }
        }
        if let value = object["umask"] {
            guard let text = value.stringValue, text.count <= 4, let mask = mode_t(text, radix: 8), mask <= 0o777 else {
                throw invalid("key 'umask' must be an octal string from \"000\" to \"777\", such as \"027\"")
            }
            file.identity.umask = mask
        }
        if let value = object["no_new_privileges"] {
            guard let flag = value.boolValue else { throw invalid("key 'no_new_privileges' must be true or false") }
            file.identity.noNewPrivileges = flag
        }
        if let value = object["recycle"] { file.recycle = try parseRecycle(value, invalid: invalid) }
        if let value = object["control"] {
            guard let text = value.stringValue, text == "allow" || text == "deny" else {
                throw invalid("key 'control' must be \"allow\" (its processes may use the control socket) or \"deny\" (the default)")
            }
            file.mayControl = text == "allow"
        }
    }

    /// `{"memory": "512M", "cpu": "50%", "tasks": 64, "files": 1024, "core": 0, "cpu_time": 3600}`.
    private static func parseLimits(_ value: JSONValue, invalid: (String) -> LoaderError) throws(LoaderError) -> ResourceLimits {
        guard let entries = value.objectValue else { throw invalid("key 'limits' must be an object (keys: \(limitKeys.joined(separator: ", ")))") }
        var limits = ResourceLimits()
        for (key, item) in entries.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "memory":
                limits.memoryBytes = try size(item, key: "limits.memory", range: (1 << 20)...(1 << 50), invalid: invalid)
            case "core":
                limits.coreBytes = try size(item, key: "limits.core", range: 0...(1 << 40), invalid: invalid)
            case "cpu":
                let text = item.stringValue ?? ""
                guard text.hasSuffix("%"), let percent = Int(text.dropLast()), (1...100_000).contains(percent) else {
                    throw invalid("'limits.cpu' must be a percentage of one CPU from \"1%\" to \"100000%\", such as \"50%\" (half a CPU) or \"200%\" (two CPUs)")
                }
                limits.cpuPercent = percent
            case "tasks", "files", "cpu_time":
                let range: ClosedRange<Int64> = key == "tasks" ? 1...4_194_304 : key == "files" ? 1...1_048_576 : 1...315_360_000
                let what = key == "tasks" ? "processes and threads" : key == "files" ? "open descriptors per process" : "seconds of CPU per process"
                guard let number = item.intValue, range.contains(number) else {
                    throw invalid("'limits.\(key)' must be a whole number of \(what) from \(range.lowerBound) to \(range.upperBound)")
                }
                switch key {
                case "tasks": limits.tasks = Int(number)
                case "files": limits.openFiles = Int(number)
                default: limits.cpuSeconds = Int(number)
                }
            default:
                throw invalid("key 'limits.\(key)' is not allowed (allowed: \(limitKeys.joined(separator: ", ")))")
            }
        }
        return limits
    }

    /// `{"memory": "100M", "calls": 10000, "age": 3600, "interval": 1}` (seconds for age and interval).
    private static func parseRecycle(_ value: JSONValue, invalid: (String) -> LoaderError) throws(LoaderError) -> RecyclePolicy {
        guard let entries = value.objectValue else { throw invalid("key 'recycle' must be an object (keys: \(recycleKeys.joined(separator: ", ")))") }
        var policy = RecyclePolicy()
        for (key, item) in entries.sorted(by: { $0.key < $1.key }) {
            switch key {
            case "memory":
                policy.memoryBytes = try size(item, key: "recycle.memory", range: (1 << 20)...(1 << 50), invalid: invalid)
            case "calls":
                guard let number = item.intValue, (1...1_000_000_000).contains(number) else {
                    throw invalid("'recycle.calls' must be a whole number of calls from 1 to 1000000000")
                }
                policy.calls = Int(number)
            case "age", "interval":
                let range = key == "age" ? 1.0...31_536_000 : 0.05...3600
                guard let seconds = item.doubleValue, range.contains(seconds) else {
                    throw invalid("'recycle.\(key)' must be a number of seconds from \(range.lowerBound) to \(range.upperBound)")
                }
                let duration = Duration.milliseconds(Int64(seconds * 1000))
                if key == "age" { policy.age = duration } else { policy.interval = duration }
            default:
                throw invalid("key 'recycle.\(key)' is not allowed (allowed: \(recycleKeys.joined(separator: ", ")))")
            }
        }
        return policy
    }

    /// A size: a whole number of bytes, or a string such as "512M" or "1GiB", within `range`.
    private static func size(_ value: JSONValue, key: String, range: ClosedRange<Int64>, invalid: (String) -> LoaderError) throws(LoaderError) -> Int64 {
        guard let bytes = value.intValue ?? value.stringValue.flatMap(ByteSize.parse), range.contains(bytes) else {
            throw invalid("'\(key)' must be a size from \(range.lowerBound) to \(range.upperBound) bytes: a whole number of bytes, or a number with K, M, G or T (powers of 1024), such as \"512M\"")
        }
        return bytes
    }
}
