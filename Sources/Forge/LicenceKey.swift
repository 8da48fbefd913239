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
public struct LicenceKey: Hashable, Sendable, CustomStringConvertible {
    /// The canonical form: six dash-separated groups of five symbols.
    public let rawValue: String

    /// Symbols per group, and groups per key.
    static let groupLength = 5, groups = 6
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// A new random key.
    public static func generate() -> LicenceKey {
        // 30 symbols of 5 bits = 150 bits, cut from three 64-bit draws: each draw is a `getrandom`
        // call, and one per symbol (30 calls) was a measurable part of a mint.
        var generator = SystemRandomNumberGenerator()
        var symbols: [Character] = []
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

    /// Reads a key as a person typed it; throws ``ForgeError/Code/malformedKey`` otherwise.
    public init(parsing text: String) throws {
        guard text.utf8.count <= 200 else { throw Self.malformed }
        var symbols: [Character] = []
        symbols.reserveCapacity(Self.groupLength * Self.groups)
        for character in text.uppercased() {
            switch character {
            case " ", "-", "\t": continue
            case "I", "L": symbols.append("1")
            case "O": symbols.append("0")
            default:
                guard Self.alphabet.contains(character) else { throw Self.malformed }
                symbols.append(character)
            }
        }
        guard symbols.count == Self.groupLength * Self.groups else { throw Self.malformed }
        self.init(symbols: symbols)
    }

    private init(symbols: [Character]) {
        var text = ""
        for (index, symbol) in symbols.enumerated() {
            if index > 0 && index % Self.groupLength == 0 { text.append("-") }
            text.append(symbol)
        }
        rawValue = text
    }

    /// The last group, e.g. `…-KJ5YE`.
    public var hint: String { "…-" + rawValue.suffix(Self.groupLength) }

    public var description: String { hint }

    /// The SHA-256 digest of the canonical key, hex — what the database stores and looks up.
    var digest: String {
        var text = rawValue, hasher = SHA256()
        text.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes { lowercaseHex($0) }
    }

    private static let malformed = ForgeError(.malformedKey, message: "Malformed Key: a licence key is six groups of five letters or digits")
}
