#if canImport(Glibc)
import Glibc
#endif
import LuminalWire

/// Reads the shared test vectors in `protocol/vectors/`.
enum VectorFiles {
    /// A failure to read or interpret a vector file.
    struct LoadError: Error, CustomStringConvertible {
        let description: String
    }

    /// `protocol/vectors`, found from this file's path: `Tests/LuminalWireTests/X.swift` -> `../../protocol/vectors`.
    static let directory: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(3)
        return components.joined(separator: "/") + "/protocol/vectors"
    }()

    /// The top-level object of a vector file, parsed with room for the payloads nested in it.
    static func document(_ name: String) throws -> [String: JSONValue] {
        let bytes = try read("\(directory)/\(name)")
        guard let document = try JSONValue.parse(bytes, maxDepth: 1024).objectValue else {
            throw LoadError(description: "\(name): top level is not an object")
        }
        return document
    }

    /// The `vectors` array of a vector file.
    static func vectors(_ name: String) throws -> [[String: JSONValue]] {
        guard let vectors = try document(name)["vectors"]?.arrayValue else {
            throw LoadError(description: "\(name): no 'vectors' array")
        }
        return try vectors.map { vector in
            guard let object = vector.objectValue else { throw LoadError(description: "\(name): a vector is not an object") }
            return object
        }
    }

    /// The bytes a lowercase hex string spells.
    static func bytes(hex: String) throws -> [UInt8] {
        let digits = Array(hex.utf8)
        guard digits.count.isMultiple(of: 2) else { throw LoadError(description: "odd hex length") }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for pair in stride(from: 0, to: digits.count, by: 2) {
            bytes.append(try nibble(digits[pair]) << 4 | nibble(digits[pair + 1]))
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) throws -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: throw LoadError(description: "bad hex digit \(digit)")
        }
    }

    private static func read(_ path: String) throws -> [UInt8] {
        guard let file = fopen(path, "rb") else { throw LoadError(description: "cannot open \(path)") }
        defer { fclose(file) }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            if count == 0 { break }
            contents.append(contentsOf: chunk[..<count])
        }
        guard ferror(file) == 0 else { throw LoadError(description: "cannot read \(path)") }
        return contents
    }
}
