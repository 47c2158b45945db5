/// One whole HTTP response, built once and written to every connection it answers: the
/// connections that share a reading of the metrics keep a reference and an offset each, never a
/// copy, so unread responses cost one copy per reading, not one per client. Its body may be in
/// pieces (the metrics' kept families and what is written at every scrape): they are sent as
/// they are, never joined.
final class SharedResponse: Sendable {
    /// The status line and the headers, then the body's pieces, sent one after the other.
    let pieces: [[UInt8]]
    /// Every byte of it.
    let count: Int
    /// Where the body begins: what a `HEAD` request is sent.
    let headLength: Int

    /// `status` with `body` (`Connection: close`: one request per connection).
    convenience init(_ status: HTTPStatus, _ body: String, contentType: String = "text/plain; charset=utf-8", extraHeaders: String = "") {
        self.init(status, body: [Array(body.utf8)], contentType: contentType, extraHeaders: extraHeaders)
    }

    /// `status` with `body`, given as UTF-8 in pieces (`Connection: close`: one request per
    /// connection).
    init(_ status: HTTPStatus, body: [[UInt8]], contentType: String = "text/plain; charset=utf-8", extraHeaders: String = "") {
        let length = body.reduce(0) { $0 + $1.count }
        let head = Array("HTTP/1.1 \(status.rawValue) \(status.reason)\r\nContent-Type: \(contentType)\r\nContent-Length: \(length)\r\n\(extraHeaders)Connection: close\r\n\r\n".utf8)
        pieces = [head] + body
        count = head.count + length
        headLength = head.count
    }
}
