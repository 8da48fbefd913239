import Crypto
import Foundation
import SuiteCore

// The token format, internal to Forge.

enum TokenFormat {
    /// `CSL1.`: the format and version, and the first bytes of what is signed.
    static let prefix: [UInt8] = Array("CSL1.".utf8)
    static let separator = UInt8(ascii: ".")
    static let signatureLength = 64
}

/// The claims as they travel: strings and milliseconds, in the fixed field order.
struct TokenRecord {
    static let separator: UInt8 = 0x1F
    static let fieldCount = 7
    /// Limits that keep every token well under ``OfflineLicenceVerifier/maximumTokenLength``.
    static let maximumRefidLength = 64, maximumProductLength = 64

    var keyID: String
    var licence: String
    var product: String
    var client: String
    var expiresAt: Int64?
    var issuedAt: Int64
    var notAfter: Int64?

    init(keyID: String, licence: String, product: String, client: String, expiresAt: Int64?, issuedAt: Int64, notAfter: Int64?) {
        self.keyID = keyID
        self.licence = licence
        self.product = product
        self.client = client
        self.expiresAt = expiresAt
        self.issuedAt = issuedAt
        self.notAfter = notAfter
    }

    /// Throws ``ForgeError/Code/validation`` for a field that cannot be written unambiguously.
    func validate() throws {
        try LicenceKeyID.validate(keyID)
        try Self.validateText(licence, field: "licence refid", maximum: Self.maximumRefidLength)
        try Self.validateText(product, field: "product", maximum: Self.maximumProductLength)
        try Self.validateText(client, field: "client refid", maximum: Self.maximumRefidLength)
    }

    private static func validateText(_ text: String, field: String, maximum: Int) throws {
        guard isValidText(text.utf8, maximum: maximum) else {
            throw ForgeError.invalid(field, "1–\(maximum) bytes of UTF-8 text without control characters")
        }
    }

    /// Non-empty, at most `maximum` bytes, no C0 control character (which includes the field
    /// separator) and no DEL.
    static func isValidText<Bytes: Collection<UInt8>>(_ bytes: Bytes, maximum: Int) -> Bool {
        var count = 0
        for byte in bytes {
            guard byte >= 0x20, byte != 0x7F else { return false }
            count += 1
        }
        return count >= 1 && count <= maximum
    }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out += keyID.utf8
        out.append(Self.separator)
        out += licence.utf8
        out.append(Self.separator)
        out += product.utf8
        out.append(Self.separator)
        out += client.utf8
        out.append(Self.separator)
        if let expiresAt { out += String(expiresAt).utf8 }
        out.append(Self.separator)
        out += String(issuedAt).utf8
        out.append(Self.separator)
        if let notAfter { out += String(notAfter).utf8 }
        return out
    }

    /// Parses a record, accepting only the canonical encoding; nil for anything else.
    init?(decoding record: [UInt8]) {
        var fields: [ArraySlice<UInt8>] = []
        fields.reserveCapacity(Self.fieldCount)
        var start = record.startIndex
        for index in record.indices where record[index] == Self.separator {
            guard fields.count < Self.fieldCount - 1 else { return nil }
            fields.append(record[start..<index])
            start = index + 1
        }
        fields.append(record[start...])
        guard fields.count == Self.fieldCount,
              LicenceKeyID.isValid(fields[0]),
              Self.isValidText(fields[1], maximum: Self.maximumRefidLength),
              Self.isValidText(fields[2], maximum: Self.maximumProductLength),
              Self.isValidText(fields[3], maximum: Self.maximumRefidLength),
              case .some(let expiresAt) = Self.optionalInstant(fields[4]),
              let issuedAt = Self.instant(fields[5]),
              case .some(let notAfter) = Self.optionalInstant(fields[6]),
              // Valid text can still be invalid UTF-8; a string must round-trip to the same bytes.
              let licence = String(validating: fields[1], as: UTF8.self),
              let product = String(validating: fields[2], as: UTF8.self),
              let client = String(validating: fields[3], as: UTF8.self)
        else { return nil }
        self.init(keyID: String(decoding: fields[0], as: UTF8.self), licence: licence, product: product,
                  client: client, expiresAt: expiresAt, issuedAt: issuedAt, notAfter: notAfter)
    }

    var claims: LicenceClaims {
        LicenceClaims(licence: Refid(rawValue: licence), product: product, client: Refid(rawValue: client),
                      expiresAt: expiresAt.map(TokenInstant.date), keyID: keyID,
                      issuedAt: TokenInstant.date(issuedAt), notAfter: notAfter.map(TokenInstant.date))
    }

    /// `.some(nil)` for an empty field, `.some(value)` for a canonical number, nil if invalid.
    private static func optionalInstant(_ field: ArraySlice<UInt8>) -> Int64?? {
        if field.isEmpty { return .some(nil) }
        guard let value = instant(field) else { return nil }
        return .some(value)
    }

    /// A canonical decimal Int64: optional `-`, digits, no leading zero, no `-0`.
    private static func instant(_ field: ArraySlice<UInt8>) -> Int64? {
        var digits = field[...]
        let negative = digits.first == UInt8(ascii: "-")
        if negative { digits = digits.dropFirst() }
        guard let first = digits.first, digits.count <= 19,
              first != UInt8(ascii: "0") || (digits.count == 1 && !negative)
        else { return nil }
        var value: Int64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let step = value.multipliedReportingOverflow(by: 10)
            let next = step.partialValue.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
            guard !step.overflow, !next.overflow else { return nil }
            value = next.partialValue
        }
        return negative ? -value : value
    }
}
