/// A public reference id: a short prefix (`CL-`, `RS-`, `LC-`…) followed by 128 bits from the system CSPRNG.
///
/// Refids are what leaves the library — in JSON, URLs, the CLI — so that numeric row ids never do.
/// They are not sequential and cannot be guessed or enumerated.
///
/// ```swift
/// let refid = Refid.generate(prefix: "CL-")   // "CL-7KQ2M9X4F1TJ8W3ZB6HD0RYC5N"
/// ```
public struct Refid: Hashable, Sendable, Codable, CustomStringConvertible, Comparable {
    /// The full text, prefix included.
    public let rawValue: String

    /// A refid from its text, unchecked (see ``isWellFormed(_:prefix:)``).
    public init(rawValue: String) { self.rawValue = rawValue }

    /// The full text, prefix included.
    public var description: String { rawValue }

    /// Orders refids by their text (not by creation: refids are random).
    public static func < (lhs: Refid, rhs: Refid) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A refid is its text in JSON: `"CL-7KQ2…"`.
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the refid as its text.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Crockford base32 alphabet: no I, L, O, U, so a refid read aloud or retyped stays unambiguous.
    static let alphabet: [UInt8] = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// Number of random characters: 26 × 5 bits = 130 bits ≥ 128 bits of entropy.
    public static let randomLength = 26

    /// Generates a new refid with `prefix`, drawing its randomness from `generator`
    /// (the system CSPRNG unless a test injects another).
    public static func generate<G: RandomNumberGenerator>(prefix: String, using generator: inout G) -> Refid {
        var bytes = [UInt8](repeating: 0, count: randomLength)
        var pool: UInt64 = 0
        var bitsLeft = 0
        for index in 0..<randomLength {
            if bitsLeft < 5 {
                pool = generator.next()
                bitsLeft = 64
            }
            bytes[index] = alphabet[Int(pool & 31)]
            pool >>= 5
            bitsLeft -= 5
        }
        return Refid(rawValue: prefix + String(decoding: bytes, as: UTF8.self))
    }

    /// Generates a new refid with `prefix` from the operating system's CSPRNG (read 4 KiB at a
    /// time into a pool, one system call per 170 refids).
    public static func generate(prefix: String) -> Refid {
        var generator = PooledSystemRandom()
        return generate(prefix: prefix, using: &generator)
    }

    /// Whether `text` has the shape of a refid with `prefix`: the prefix, then exactly
    /// ``randomLength`` Crockford base32 characters. Cheap; lets callers reject junk before a query.
    public static func isWellFormed(_ text: String, prefix: String) -> Bool {
        guard text.hasPrefix(prefix) else { return false }
        let body = text.utf8.dropFirst(prefix.utf8.count)
        return body.count == randomLength && body.allSatisfy { alphabet.contains($0) }
    }
}
