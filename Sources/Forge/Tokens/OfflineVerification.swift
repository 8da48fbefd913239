public import Crypto
public import Foundation
public import SuiteCore

/// The outcome of ``OfflineLicenceVerifier/verify(_:)``.
///
/// ```swift
/// switch verifier.verify(token).code {
/// case .valid: unlockFeatures()
/// case .expired: showRenewal()
/// case .tokenExpired: refreshTokenOnline()
/// case .tampered, .unknownKey, .malformed: showInvalidLicence()
/// }
/// ```
public struct OfflineVerification: Hashable, Sendable, Encodable {
    /// Why a token is or is not valid.
    ///
    /// ```swift
    /// let code: OfflineVerification.Code = verifier.verify(token).code
    /// ```
    public enum Code: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        /// Signed by a trusted key, licence not expired, token within its not-after.
        ///
        /// ```swift
        /// if outcome.code == .valid { unlockFeatures() }
        /// ```
        case valid
        /// Genuine, but the licence's expiry has passed. Reported before ``tokenExpired``, since a
        /// fresh token would not help.
        ///
        /// ```swift
        /// if outcome.code == .expired { showRenewal(for: outcome.claims?.licence) }
        /// ```
        case expired
        /// Genuine and the licence not expired, but the token's not-after has passed: fetch a new one.
        ///
        /// ```swift
        /// if outcome.code == .tokenExpired { try await refreshToken() }
        /// ```
        case tokenExpired
        /// The signature does not verify: the token was altered, or forged under a trusted key id.
        ///
        /// ```swift
        /// if outcome.code == .tampered { logger.warning("forged or altered licence token") }
        /// ```
        case tampered
        /// The token names a key id none of the verifier's public keys has (a retired or foreign
        /// key — or a key id altered in transit, which cannot be told apart).
        ///
        /// ```swift
        /// if outcome.code == .unknownKey { try await refreshToken() }   // signed by a newer key?
        /// ```
        case unknownKey
        /// Not a version-1 licence token: wrong prefix, bad base64url, wrong field count, too long…
        ///
        /// ```swift
        /// #expect(verifier.verify("not a token").code == .malformed)
        /// ```
        case malformed

        /// The raw value, e.g. `tokenExpired`.
        ///
        /// ```swift
        /// print(OfflineVerification.Code.tampered)   // tampered
        /// ```
        public var description: String { rawValue }
    }

    /// The outcome.
    ///
    /// ```swift
    /// if verifier.verify(token).code == .tokenExpired { try await refreshToken() }
    /// ```
    public var code: Code
    /// The claims, when the signature verified (``Code/valid``, ``Code/expired``,
    /// ``Code/tokenExpired``); nil otherwise, since unverified claims mean nothing.
    ///
    /// ```swift
    /// if let claims = verifier.verify(token).claims { print("licence for", claims.product) }
    /// ```
    public var claims: LicenceClaims?

    /// An outcome; made by ``OfflineLicenceVerifier``, public for test doubles.
    ///
    /// ```swift
    /// let denied = OfflineVerification(code: .malformed, claims: nil)
    /// ```
    public init(code: Code, claims: LicenceClaims?) {
        self.code = code
        self.claims = claims
    }

    /// Only ``Code/valid`` is valid.
    ///
    /// ```swift
    /// guard verifier.verify(token).isValid else { return }
    /// ```
    public var isValid: Bool { code == .valid }

    private enum CodingKeys: String, CodingKey { case code, isValid, claims }

    /// In JSON: `{"code": "valid", "is_valid": true, "claims": {…} or null}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(isValid, forKey: .isValid)
        try container.encode(claims, forKey: .claims)
    }
}
