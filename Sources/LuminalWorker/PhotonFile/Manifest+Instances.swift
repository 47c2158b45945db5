import LuminalWire

extension Manifest {
    /// The keys of an `instances` object.
    static let instancesKeys = ["count", "surge"]

    /// Reads `instances`: a whole number of workers (`4`), or `{"count": 4, "surge": 2}` to
    /// replace two at a time on a reload.
    static func parseInstances(_ value: JSONValue, invalid: (String) -> LoaderError) throws(LoaderError) -> PoolSize {
        func whole(_ item: JSONValue, _ key: String) throws(LoaderError) -> Int {
            guard let number = item.intValue else {
                throw invalid("'\(key)' must be a whole number from 1 to \(PoolSize.limit), not \(item)")
            }
            return Int(clamping: number)
        }
        var size = PoolSize()
        if let entries = value.objectValue {
            for key in entries.keys.sorted() where !instancesKeys.contains(key) {
                throw invalid("key 'instances.\(key)' is not allowed (allowed: \(instancesKeys.joined(separator: ", ")))")
            }
            guard let count = entries["count"] else {
                throw invalid("key 'instances' as an object needs 'count': how many workers run")
            }
            size.count = try whole(count, "instances.count")
            if let surge = entries["surge"] { size.surge = try whole(surge, "instances.surge") }
        } else if value.intValue != nil {
            size.count = try whole(value, "instances")
        } else {
            throw invalid("key 'instances' must be a whole number of workers (4) or an object ({\"count\": 4, \"surge\": 2}), not \(value)")
        }
        if let problem = size.problem { throw invalid(problem) }
        return size
    }
}
