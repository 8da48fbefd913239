public import Crypto
public import Foundation
public import SuiteCore

/// Signs licence tokens that apps verify offline with ``OfflineLicenceVerifier``.
///
/// Only an active licence bonded to a client gets a token. The token carries the licence
/// expiry, so it stops verifying when the licence expires — but **a revocation cannot reach an
/// offline verifier**: a token for a licence revoked later keeps verifying until its own
/// ``LicenceClaims/notAfter``. Pass `validFor` to bound that window, and have apps fetch a
/// fresh token (online) before it runs out; a revoked licence then gets no new token.
///
/// ```swift
/// let signer = LicenceSigner(key: try LicenceSigningKey(id: "k1", base64PrivateKey: secret))
/// let token = try signer.sign(licence, validFor: .seconds(7 * 86_400))
/// // "CSL1.azEfTEMtN0tRMk05WDRG….Yk3v…"
/// ```
///
/// ## Token format
///
/// Version 1 is compact, URL-safe ASCII: `CSL1.<base64url(claims)>.<base64url(signature)>`.
///
/// - `CSL1` names the format and its version. It is part of the signed bytes, so it cannot be
///   swapped for another version without breaking the signature.
/// - The claims are a UTF-8 record of seven fields in a fixed order, separated by U+001F (the
///   ASCII unit separator, which no field may contain):
///   `keyID ␟ licence ␟ product ␟ client ␟ expiresAt ␟ issuedAt ␟ notAfter`.
///   Instants are milliseconds since the Unix epoch in canonical decimal (no `+`, no leading
///   zeros, no `-0`); an empty `expiresAt` means a lifetime licence, an empty `notAfter` a token
///   without its own deadline. Refids and the product are 1–64 bytes without control
///   characters; key ids 1–32 characters from `A–Z a–z 0–9 . _ -`. One set of claims has exactly
///   one encoding, and a verifier accepts nothing else.
/// - The signature is Ed25519 over the exact ASCII bytes `CSL1.<base64url(claims)>`.
/// - Base64url is RFC 4648 §5 without padding, decoded strictly (unused trailing bits must be
///   zero), so a signature has one spelling and no character of a token can change unnoticed.
///
/// For example, the claims `k1␟LC-7KQ2…␟PRO-1Y␟CL-0HZ8…␟1781536000000␟1750000000000␟` (a licence
/// expiring in June 2026, no token deadline) travel as `CSL1.azEfTEMtN0tRMk05WDRG….<86 characters>`.
public struct LicenceSigner: Sendable {
    /// The key tokens are signed with; its id goes into every token.
    ///
    /// ```swift
    /// let published = signer.key.publicKey
    /// ```
    public let key: LicenceSigningKey
    let clock: any WallClock

    /// A signer with `key`, reading the time (issued-at, not-after, licence status) from `clock`.
    ///
    /// ```swift
    /// let signer = LicenceSigner(key: key, clock: ManualWallClock(now: .init(timeIntervalSince1970: 0)))
    /// ```
    public init(key: LicenceSigningKey, clock: any WallClock = SystemWallClock()) {
        self.key = key
        self.clock = clock
    }

    /// A token for `licence`, valid until the licence expires and, with `validFor`, no longer
    /// than that from now.
    ///
    /// Throws ``ForgeError/Code/statusConflict`` if the licence is not active now (pending,
    /// revoked, or past its expiry), ``ForgeError/Code/signing`` if it has no client, and
    /// ``ForgeError/Code/validation`` if `validFor` is under a millisecond or a field cannot be
    /// written into a token (an empty or over-long product code or refid, or one holding
    /// control characters).
    ///
    /// ```swift
    /// let token = try signer.sign(licence)                          // until the licence expires
    /// let fresh = try signer.sign(licence, validFor: .seconds(86_400)) // and at most a day
    /// ```
    public func sign(_ licence: Licence, validFor: Duration? = nil) throws -> String {
        let now = clock.now()
        let status = licence.effectiveStatus(at: now)
        guard status == .active else {
            throw ForgeError(.statusConflict, message: "Cannot sign a licence token: the licence is \(status); only an active licence gets a token")
        }
        guard let client = licence.client else {
            throw ForgeError(.signing, message: "Cannot sign a licence token: the licence is not bonded to a client; activate it first")
        }
        let issuedAt = TokenInstant.milliseconds(now)
        var notAfter: Int64?
        if let validFor {
            let (seconds, attoseconds) = validFor.components
            let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1000)
            let length = whole.addingReportingOverflow(attoseconds / 1_000_000_000_000_000)
            let end = issuedAt.addingReportingOverflow(length.partialValue)
            guard !overflow, !length.overflow, !end.overflow, length.partialValue >= 1 else {
                throw ForgeError.invalid("validFor", "a token must be valid for at least a millisecond (and for less than forever)")
            }
            notAfter = end.partialValue
        }
        return try sign(record: TokenRecord(
            keyID: key.id, licence: licence.refid.rawValue, product: licence.product, client: client.rawValue,
            expiresAt: licence.expiresAt.map(TokenInstant.milliseconds), issuedAt: issuedAt, notAfter: notAfter))
    }

    /// A token asserting exactly `claims`, with no check of any licence's status.
    ///
    /// For issuers that hold the claims but not the ``Licence`` (and for benchmarks and tests);
    /// prefer ``sign(_:validFor:)``, which refuses licences that are not active. Throws
    /// ``ForgeError/Code/signing`` if `claims.keyID` is not this signer's key id, and
    /// ``ForgeError/Code/validation`` if a field cannot be written into a token.
    ///
    /// ```swift
    /// let token = try signer.sign(LicenceClaims(licence: licenceRefid, product: "PRO-1Y",
    ///     client: clientRefid, expiresAt: nil, keyID: signer.key.id, issuedAt: clock.now(), notAfter: nil))
    /// ```
    public func sign(_ claims: LicenceClaims) throws -> String {
        guard claims.keyID == key.id else {
            throw ForgeError(.signing, message: "Cannot sign a licence token: its key id is not the signing key's id")
        }
        return try sign(record: TokenRecord(
            keyID: claims.keyID, licence: claims.licence.rawValue, product: claims.product, client: claims.client.rawValue,
            expiresAt: claims.expiresAt.map(TokenInstant.milliseconds), issuedAt: TokenInstant.milliseconds(claims.issuedAt),
            notAfter: claims.notAfter.map(TokenInstant.milliseconds)))
    }

    private func sign(record: TokenRecord) throws -> String {
        try record.validate()
        var signed = Array(TokenFormat.prefix)
        Base64URL.encode(record.encoded(), into: &signed)
        let signature: Data
        do {
            signature = try key.privateKey.signature(for: signed)
        } catch {
            throw ForgeError(.signing, message: "Cannot sign a licence token: the signing operation failed")
        }
        var token = signed
        token.append(TokenFormat.separator)
        Base64URL.encode(signature, into: &token)
        return String(decoding: token, as: UTF8.self)
    }
}
