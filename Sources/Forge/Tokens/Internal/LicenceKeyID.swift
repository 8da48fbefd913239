import Crypto
import Foundation
import SuiteCore

/// Key ids: 1–32 characters from `A–Z a–z 0–9 . _ -`.
enum LicenceKeyID {
    static let maximumLength = 32

    static func isValid<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var count = 0
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
                count += 1
            default:
                return false
            }
        }
        return count >= 1 && count <= maximumLength
    }

    static func validate(_ id: String) throws {
        guard isValid(id.utf8) else {
            throw ForgeError.invalid("key id", "1–\(maximumLength) characters from A–Z, a–z, 0–9, '.', '_' and '-'")
        }
    }

    static func rawKey(fromBase64 text: String, what: String) throws -> Data {
        guard text.utf8.count <= 256, let raw = Data(base64Encoded: text) else {
            throw ForgeError(.signing, message: "Invalid \(what): not standard base64")
        }
        return raw
    }
}
