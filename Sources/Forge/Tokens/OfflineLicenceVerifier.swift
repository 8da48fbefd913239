public import Crypto
public import Foundation
public import SuiteCore

/// Verifies licence tokens with public keys alone — no database, no network.
///
/// Give it every public key whose tokens should still be accepted: during a rotation, the old
/// and the new key; once the old tokens have run out, only the new one. Several keys under one
/// id are all trusted. Verification never throws and never traps, whatever the input.
///
/// An offline verifier cannot learn of a revocation: a revoked licence's token keeps verifying
/// until its expiry or its not-after (see ``LicenceSigner``).
///
/// ```swift
/// let verifier = OfflineLicenceVerifier(publicKeys: [
///     try LicencePublicKey(id: "2025-06", base64PublicKey: currentKey),
///     try LicencePublicKey(id: "2024-12", base64PublicKey: previousKey),
/// ])
/// let outcome = verifier.verify(token)
/// if outcome.isValid, let claims = outcome.claims { activate(claims.product) }
/// ```
public struct OfflineLicenceVerifier: Sendable {
    /// Tokens longer than this (in UTF-8 bytes) are ``OfflineVerification/Code/malformed`` without
    /// further work. The longest token the signer can make is under 500 bytes.
    ///
    /// ```swift
    /// guard token.utf8.count <= OfflineLicenceVerifier.maximumTokenLength else { … }
    /// ```
    public static let maximumTokenLength = 1024

    /// The trusted keys, in the order given.
    ///
    /// ```swift
    /// let trustedIDs = verifier.publicKeys.map(\.id)
    /// ```
    public let publicKeys: [LicencePublicKey]
    /// The ids as bytes beside their keys: a linear scan over a handful of short byte arrays is
    /// cheaper than building a String to hash on every call.
    private let lookup: [(id: [UInt8], key: Curve25519.Signing.PublicKey)]
    private let clock: any WallClock

    /// A verifier trusting `publicKeys`, judging expiry by `clock`.
    ///
    /// ```swift
    /// let verifier = OfflineLicenceVerifier(publicKeys: [signingKey.publicKey], clock: ManualWallClock(now: .now))
    /// ```
    public init(publicKeys: [LicencePublicKey], clock: any WallClock = SystemWallClock()) {
        self.publicKeys = publicKeys
        self.lookup = publicKeys.map { (Array($0.id.utf8), $0.key) }
        self.clock = clock
    }

    /// Checks `token`: its format, its signature under the key its key id names, then the
    /// licence expiry and the token's not-after against the clock (an instant equal to either
    /// is past it).
    ///
    /// ```swift
    /// let outcome = verifier.verify(token)
    /// print(outcome.code, outcome.claims?.product ?? "-")
    /// ```
    public func verify(_ token: String) -> OfflineVerification {
        guard token.utf8.count <= Self.maximumTokenLength else { return Self.malformed }
        var token = token
        return token.withUTF8 { verify(bytes: $0) }
    }

    private static let malformed = OfflineVerification(code: .malformed, claims: nil)

    private func verify(bytes token: UnsafeBufferPointer<UInt8>) -> OfflineVerification {
        // CSL1.<claims>.<signature>
        let prefixLength = TokenFormat.prefix.count
        guard token.count > prefixLength, token.starts(with: TokenFormat.prefix) else { return Self.malformed }
        guard let dot = token[prefixLength...].firstIndex(of: TokenFormat.separator) else { return Self.malformed }
        let signedPart = UnsafeBufferPointer(rebasing: token[..<dot])
        guard let record = Base64URL.decode(token[prefixLength..<dot]),
              let signature = Base64URL.decode(token[(dot + 1)...]),
              signature.count == TokenFormat.signatureLength
        else { return Self.malformed }

        // The key id comes before the signature check only to pick the key; the other fields
        // are trusted (and parsed) once the signature holds.
        let keyIDEnd = record.firstIndex(of: TokenRecord.separator) ?? record.endIndex
        let keyID = record[..<keyIDEnd]
        guard keyIDEnd < record.endIndex, LicenceKeyID.isValid(keyID) else { return Self.malformed }
        var known = false
        var genuine = false
        for candidate in lookup where candidate.id.elementsEqual(keyID) {
            known = true
            if candidate.key.isValidSignature(signature, for: UnsafeRawBufferPointer(signedPart)) {
                genuine = true
                break
            }
        }
        guard known else { return OfflineVerification(code: .unknownKey, claims: nil) }
        guard genuine else { return OfflineVerification(code: .tampered, claims: nil) }

        guard let parsed = TokenRecord(decoding: record) else { return Self.malformed }
        let now = TokenInstant.milliseconds(clock.now())
        let code: OfflineVerification.Code
        if let expiresAt = parsed.expiresAt, expiresAt <= now {
            code = .expired
        } else if let notAfter = parsed.notAfter, notAfter <= now {
            code = .tokenExpired
        } else {
            code = .valid
        }
        return OfflineVerification(code: code, claims: parsed.claims)
    }
}
