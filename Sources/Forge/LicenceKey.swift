import Crypto
import Foundation
import SuiteCore

/// A licence key: 150 bits from the system CSPRNG, written as six groups of five Crockford
/// base-32 symbols, e.g. `7QK2M-X4T9B-0HZ8R-NC3VW-G6D1P-KJ5YE`.
///
/// Parsing is forgiving the way people type keys: case, spaces and dashes are ignored, and the
/// look-alikes `I`/`L` read as `1` and `O` as `0`. The key is a secret: ``description`` shows only
/// its last group, so logging a key by accident does not leak it — use ``rawValue`` to print it.
///
/// ```swift
/// let key = try LicenceKey(parsing: "7qk2m x4t9b 0hz8r nc3vw g6d1p kj5ye")
/// ```
public struct LicenceKey: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The canonical form: six dash-separated groups of five symbols.
    public let rawValue: String

    /// Symbols per group, and groups per key.
    static let groupLength = 5, groups = 6
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    /// A new random key.
    public static func generate() -> LicenceKey {
        // 30 symbols of 5 bits = 150 bits, cut from three 64-bit draws: each draw is a `getrandom`
        // call, and one per symbol (30 calls) was a measurable part of a mint.
        var generator = SystemRandomNumberGenerator()
        var symbols: [UInt8] = []
        symbols.reserveCapacity(groupLength * groups)
        var bits: UInt64 = 0, available = 0
        while symbols.count < groupLength * groups {
            if available < 5 {
                bits = generator.next()
                available = 64
            }
            symbols.append(alphabet[Int(bits & 0x1F)])
            bits >>= 5
            available -= 5
        }
        return LicenceKey(symbols: symbols)
    }

    /// A key is its canonical text in JSON; decoding checks it as ``init(parsing:)`` does.
    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    /// Encodes the key as its canonical text (``rawValue``), the whole secret.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    /// Reads a key as a person typed it; throws ``ForgeError/Code/malformedKey`` otherwise.
    public init(parsing text: String) throws {
        guard text.utf8.count <= 200 else { throw Self.malformed }
        var symbols: [UInt8] = []
        symbols.reserveCapacity(Self.groupLength * Self.groups)
        for byte in text.utf8 {
            // Lower case read as upper case; anything not ASCII is not a key.
            let upper = (0x61...0x7A).contains(byte) ? byte - 0x20 : byte
            switch upper {
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "\t"): continue
            case UInt8(ascii: "I"), UInt8(ascii: "L"): symbols.append(UInt8(ascii: "1"))
            case UInt8(ascii: "O"): symbols.append(UInt8(ascii: "0"))
            default:
                guard Self.alphabet.contains(upper) else { throw Self.malformed }
                symbols.append(upper)
            }
            guard symbols.count <= Self.groupLength * Self.groups else { throw Self.malformed }
        }
        guard symbols.count == Self.groupLength * Self.groups else { throw Self.malformed }
        self.init(symbols: symbols)
    }

    /// `symbols` (ASCII from the alphabet), dash-separated in groups.
    private init(symbols: [UInt8]) {
        var text: [UInt8] = []
        text.reserveCapacity(symbols.count + Self.groups - 1)
        for (index, symbol) in symbols.enumerated() {
            if index > 0 && index % Self.groupLength == 0 { text.append(UInt8(ascii: "-")) }
            text.append(symbol)
        }
        rawValue = String(decoding: text, as: UTF8.self)
    }

    /// The last group, e.g. `…-KJ5YE`.
    public var hint: String { "…-" + rawValue.suffix(Self.groupLength) }

    /// Only the ``hint``, so that printing or logging a key does not leak it.
    public var description: String { hint }

    /// The SHA-256 digest of the canonical key, hex — what the database stores and looks up.
    var digest: String {
        var text = rawValue, hasher = SHA256()
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes { lowercaseHex($0) }
    }

    private static let malformed = ForgeError(.malformedKey, message: "Malformed Key: a licence key is six groups of five letters or digits")
}
