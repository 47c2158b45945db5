#if canImport(Glibc)
import Glibc
#endif
@testable import Luminal
@testable import LuminalSystem
import Testing

@Suite struct Checksums {
    func digest(_ text: String, pieces: Int = 1) -> String {
        var sha = SHA256()
        let bytes = Array(text.utf8)
        let size = max(1, bytes.count / pieces)
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + size)
            bytes[start..<end].withUnsafeBytes { sha.update($0) }
            start = end
        }
        return sha.finalizeHex()
    }

    @Test func knownAnswers() {
        // FIPS 180-4 examples.
        #expect(digest("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(digest("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(digest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
                == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(digest(String(repeating: "a", count: 1_000_000))
                == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    @Test func feedingInPiecesGivesTheSameDigest() {
        let text = String(repeating: "luminal photons ", count: 1000)
        let whole = digest(text)
        for pieces in [2, 3, 7, 64, 1000] { #expect(digest(text, pieces: pieces) == whole) }
    }

    @Test func everyLengthAroundTheBlockBoundaries() {
        // Padding differs at 55, 56 and 64 bytes; compare the streaming and one-shot paths.
        for length in 50...130 {
            let text = String(repeating: "x", count: length)
            #expect(digest(text, pieces: 5) == digest(text))
        }
    }

    @Test func fileDigestMatchesSha256sum() throws {
        let folder = PhotonFolder()
        defer { folder.remove() }
        let path = folder.write("data", String(repeating: "0123456789", count: 100_000))
        let pipe = popen("sha256sum '\(path)'", "r")
        var buffer = [CChar](repeating: 0, count: 128)
        _ = fgets(&buffer, 128, pipe)
        pclose(pipe)
        let expected = String(decoding: buffer.prefix(64).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        #expect(try FileDigest.sha256(of: [path]) == expected)
    }

    @Test func aSettledFileIsRememberedAndAFreshOneIsAlwaysHashed() throws {
        let settled = "/usr/bin/env" // installed with the system: long settled
        let digest = try FileDigest.sha256(of: [settled])
        #expect(FileDigest.cache.withLock { $0[[settled]]?.digest } == digest)
        #expect(try FileDigest.sha256(of: [settled]) == digest)

        let folder = PhotonFolder()
        defer { folder.remove() }
        let path = folder.write("fresh", "one")
        let first = try FileDigest.sha256(of: [path])
        #expect(FileDigest.cache.withLock { $0[[path]] } == nil)
        folder.write("fresh", "two") // same size, possibly the same coarse timestamp
        #expect(try FileDigest.sha256(of: [path]) != first)
    }
}
