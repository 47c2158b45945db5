/// The request line and headers of an HTTP/1.x request, as far as the metrics endpoint reads them.
struct HTTPRequestHead: Sendable, Equatable {
    /// The most bytes a request's head (request line and headers) may take.
    static let byteLimit = 8 * 1024
    /// The most header lines a request may carry.
    static let headerLimit = 64

    /// `GET`, `HEAD`, …
    let method: String
    /// The path, without the query string.
    let path: String

    /// What reading a request's head came to so far.
    enum Reading: Sendable, Equatable {
        /// The head is not complete yet (and within the limits).
        case incomplete
        /// A whole, well-formed head.
        case complete(HTTPRequestHead)
        /// A head the endpoint refuses, with the status that says why.
        case refused(HTTPStatus, String)
    }

    /// Reads the head at the start of `bytes` (what a connection sent so far).
    static func read(_ bytes: [UInt8]) -> Reading {
        guard let end = headEnd(bytes) else {
            if bytes.count > byteLimit { return .refused(.headerFieldsTooLarge, "the request's head is larger than \(byteLimit) bytes") }
            let lines = bytes.lazy.filter { $0 == UInt8(ascii: "\n") }.count
            if lines > headerLimit + 1 { return .refused(.headerFieldsTooLarge, "the request has more than \(headerLimit) header lines") }
            return .incomplete
        }
        if end > byteLimit { return .refused(.headerFieldsTooLarge, "the request's head is larger than \(byteLimit) bytes") }
        let lines = bytes[..<end].split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { line in
            line.last == UInt8(ascii: "\r") ? line.dropLast() : line
        }.filter { !$0.isEmpty }
        guard let first = lines.first else { return .refused(.badRequest, "the request is empty") }
        if lines.count - 1 > headerLimit { return .refused(.headerFieldsTooLarge, "the request has more than \(headerLimit) header lines") }
        let parts = first.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, let method = token(parts[0]), let written = String(validating: parts[1], as: UTF8.self),
              let target = originForm(written), !target.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 32 } ?? false }),
              parts[2].elementsEqual("HTTP/1.1".utf8) || parts[2].elementsEqual("HTTP/1.0".utf8) else {
            return .refused(.badRequest, "the request line is not 'METHOD /path HTTP/1.1'")
        }
        for header in lines.dropFirst() {
            guard let colon = header.firstIndex(of: UInt8(ascii: ":")), token(header[..<colon]) != nil,
                  !header.contains(where: { $0 < 32 && $0 != UInt8(ascii: "\t") }) else {
                return .refused(.badRequest, "a header line is not 'Name: value'")
            }
        }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? target
        return .complete(HTTPRequestHead(method: method, path: path))
    }

    /// `target` in origin form (`/path?query`): as it is, or an absolute-form target
    /// (`http://host:port/path?query`, which a server must accept: RFC 9112, 3.2.2) without its
    /// scheme and authority; nil for any other form, for a fragment (`#`, never part of a
    /// request target) and for an absolute form whose host is empty (RFC 9110, 4.2.1) or an
    /// unclosed IPv6 literal.
    private static func originForm(_ target: String) -> String? {
        guard !target.contains("#") else { return nil }
        if target.hasPrefix("/") { return target }
        for scheme in ["http://", "https://"] where target.lowercased().hasPrefix(scheme) {
            let rest = target.dropFirst(scheme.count)
            let end = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            let authority = rest[..<end]
            let host = authority.lastIndex(of: "@").map { authority[authority.index(after: $0)...] } ?? authority
            guard !host.isEmpty, !host.hasPrefix(":"), !host.hasPrefix("[") || host.contains("]") else { return nil }
            guard end < rest.endIndex else { return "/" }
            return rest[end] == "/" ? String(rest[end...]) : "/" + rest[end...]
        }
        return nil
    }

    /// Where the head ends: the index just past the empty line (`\r\n\r\n` or `\n\n`).
    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\n") {
                if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "\n") { return index + 2 }
                if index + 2 < bytes.count, bytes[index + 1] == UInt8(ascii: "\r"), bytes[index + 2] == UInt8(ascii: "\n") { return index + 3 }
            }
            index += 1
        }
        return nil
    }

    /// `bytes` as an HTTP token (a method or header name): visible ASCII without separators.
    private static func token(_ bytes: some Collection<UInt8>) -> String? {
        let separators = Set("()<>@,;:\\\"/[]?={} \t".utf8)
        guard !bytes.isEmpty, bytes.allSatisfy({ $0 > 32 && $0 < 127 && !separators.contains($0) }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The statuses the metrics endpoint answers with.
enum HTTPStatus: Int, Sendable {
    case ok = 200
    case badRequest = 400
    case notFound = 404
    case methodNotAllowed = 405
    case requestTimeout = 408
    case headerFieldsTooLarge = 431
    case serviceUnavailable = 503

    /// The reason phrase.
    var reason: String {
        switch self {
        case .ok: "OK"
        case .badRequest: "Bad Request"
        case .notFound: "Not Found"
        case .methodNotAllowed: "Method Not Allowed"
        case .requestTimeout: "Request Timeout"
        case .headerFieldsTooLarge: "Request Header Fields Too Large"
        case .serviceUnavailable: "Service Unavailable"
        }
    }
}
