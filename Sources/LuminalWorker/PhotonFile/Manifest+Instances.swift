import LuminalWire

extension Manifest {
    /// The keys of an `instances` object.
    static let instancesKeys = ["count", "min", "max", "surge", "linger"]

    /// Reads `instances`: a whole number of workers (`4`), `{"count": 4, "surge": 2}` to replace
    /// two at a time on a reload, or `{"min": 1, "max": 8, "linger": 30}` for a pool that scales.
    static func parseInstances(_ value: JSONValue, invalid: (String) -> LoaderError) throws(LoaderError) -> PoolSize {
        func whole(_ item: JSONValue, _ key: String) throws(LoaderError) -> Int {
            guard let number = item.intValue, (1...Int64(PoolSize.limit)).contains(number) else {
                // A whole number written as 1e3 is shown as written in whole digits, not as 1000.0.
                throw invalid("'\(key)' must be a whole number from 1 to \(PoolSize.limit), not \(item.intValue.map(String.init) ?? item.description)")
            }
            return Int(number)
        }
        var size = PoolSize()
        if let entries = value.objectValue {
            for key in entries.keys.sorted() where !instancesKeys.contains(key) {
                throw invalid("key 'instances.\(key)' is not allowed (allowed: \(instancesKeys.joined(separator: ", ")))")
            }
            switch (entries["count"], entries["min"], entries["max"]) {
            case (let count?, nil, nil):
                size.count = try whole(count, "instances.count")
                size.max = size.count
            case (nil, let min, let max?):
                size.count = try min.map { item throws(LoaderError) in try whole(item, "instances.min") } ?? 1
                size.max = try whole(max, "instances.max")
                if size.count > size.max {
                    throw invalid("'instances.min' (\(size.count)) is above 'instances.max' (\(size.max))")
                }
            case (nil, _, nil):
                throw invalid("key 'instances' as an object needs 'count' (a fixed number of workers) or 'max' (with 'min', a pool that scales)")
            default:
                throw invalid("key 'instances' has 'count' and 'min' or 'max': a pool is fixed (count) or scales (min to max), not both")
            }
            if let surge = entries["surge"] { size.surge = try whole(surge, "instances.surge") }
            if let linger = entries["linger"] {
                guard entries["max"] != nil else {
                    throw invalid("'instances.linger' applies to a pool that scales (with 'max'), not to a fixed count")
                }
                guard let seconds = linger.doubleValue, (1...86_400).contains(seconds) else {
                    throw invalid("'instances.linger' must be a number of seconds from 1 to 86400, not \(linger)")
                }
                size.linger = .milliseconds(Int64(seconds * 1000))
            }
        } else if value.intValue != nil {
            size.count = try whole(value, "instances")
            size.max = size.count
        } else {
            throw invalid("key 'instances' must be a whole number of workers (4) or an object ({\"count\": 4, \"surge\": 2} or {\"min\": 1, \"max\": 8}), not \(value)")
        }
        if let problem = size.problem { throw invalid(problem) }
        return size
    }
}
