import Crypto
import Foundation
import SuiteCore

/// Instants as whole milliseconds since the Unix epoch, rounded down.
enum TokenInstant {
    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded(.down)
        // Clamped rather than trapping: an absurd clock or expiry must not crash a verifier.
        // `-Int64.max`, not `.min`, so that every value has a canonical decimal the parser reads.
        guard value.isFinite else { return value > 0 ? .max : -.max }
        if value >= 9.2e18 { return .max }
        if value <= -9.2e18 { return -.max }
        return Int64(value)
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }
}

/// RFC 4648 §5 base64url without padding, decoded strictly.
enum Base64URL {
    static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes, into out: inout [UInt8]) {
        let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        alphabet.withUTF8Buffer { symbols in
            var iterator = bytes.makeIterator()
            while let first = iterator.next() {
                let second = iterator.next(), third = iterator.next()
                let group = UInt32(first) << 16 | UInt32(second ?? 0) << 8 | UInt32(third ?? 0)
                out.append(symbols[Int(group >> 18 & 63)])
                out.append(symbols[Int(group >> 12 & 63)])
                if second != nil { out.append(symbols[Int(group >> 6 & 63)]) }
                if third != nil { out.append(symbols[Int(group & 63)]) }
            }
        }
    }

    /// The decoded bytes, or nil for any character outside the alphabet, an impossible length
    /// (`count % 4 == 1`), or non-zero unused bits in the last character — so that each byte
    /// string has exactly one encoding.
    static func decode(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8]? {
        let remainder = text.count % 4
        guard remainder != 1 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var bits = 0
        for symbol in text {
            guard let value = sextet(symbol) else { return nil }
            accumulator = accumulator << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits (2 or 4) are padding and must be zero.
        guard accumulator == 0 else { return nil }
        return out
    }

    @inline(__always)
    private static func sextet(_ symbol: UInt8) -> UInt8? {
        switch symbol {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): symbol &- UInt8(ascii: "A")
        case UInt8(ascii: "a")...UInt8(ascii: "z"): symbol &- UInt8(ascii: "a") &+ 26
        case UInt8(ascii: "0")...UInt8(ascii: "9"): symbol &- UInt8(ascii: "0") &+ 52
        case UInt8(ascii: "-"): 62
        case UInt8(ascii: "_"): 63
        default: nil
        }
    }
}
