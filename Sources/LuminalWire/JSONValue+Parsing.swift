extension JSONValue {
    /// The nesting limit PROTOCOL.md §2 sets for payloads: 512 arrays/objects.
    public static let defaultMaxDepth = 512

    /// How many levels deeper a worker's value sits in a control reply than in the worker's own
    /// frame (CONTROL.md §4): an error's `data` is at depth 2 of the worker's `error` frame and
    /// at depth 5 of `{"ok": false, "error": {"details": {"photonError": {"data": …}}}}`. (An
    /// event's `data` and a photon's `metadata` go one level deeper, a call's result none.)
    public static let controlEnvelopeDepth = 3

    /// The nesting a control reply may reach, and a control client accepts: the worker's limit
    /// plus the envelope, 515. Every value a worker may legally send reaches the client.
    public static let controlMaxDepth = defaultMaxDepth + controlEnvelopeDepth

    /// Parses `bytes` as exactly one JSON value (strict RFC 8259), optionally surrounded by
    /// whitespace.
    ///
    /// Ill-formed UTF-8 anywhere in `bytes` throws `invalidUTF8`, with the byte offset in the
    /// detail; bad syntax, trailing bytes, a duplicate object key, a lone surrogate escape, a
    /// number out of `Double` range, or more than `maxDepth` nested arrays/objects throw
    /// `invalidJSON`.
    public static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = defaultMaxDepth) throws(ProtocolFault) -> JSONValue {
        let result = bytes.withMemoryRebound(to: UInt8.self) { buffer in
            parseResult(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses `bytes` as exactly one JSON value; see `parse(_:maxDepth:)` for raw buffers.
    public static func parse(_ bytes: [UInt8], maxDepth: Int = defaultMaxDepth) throws(ProtocolFault) -> JSONValue {
        let result = bytes.withUnsafeBufferPointer { buffer in
            parseResult(buffer, maxDepth: maxDepth)
        }
        return try result.get()
    }

    /// Parses `text` as exactly one JSON value, with the default nesting limit.
    public static func parse(_ text: String) throws(ProtocolFault) -> JSONValue {
        var text = text
        let result = text.withUTF8 { buffer in
            parseResult(buffer, maxDepth: defaultMaxDepth)
        }
        return try result.get()
    }

    /// Parses `buffer`, returning the outcome as a value so it can cross untyped `rethrows` closures.
    static func parseResult(_ buffer: UnsafeBufferPointer<UInt8>, maxDepth: Int) -> Result<JSONValue, ProtocolFault> {
        var parser = JSONParser(bytes: buffer, maxDepth: maxDepth)
        return Result { () throws(ProtocolFault) in try parser.parseDocument() }
    }
}
