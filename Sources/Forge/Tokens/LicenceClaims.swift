public import Crypto
public import Foundation
public import SuiteCore

/// What a licence token asserts, as read back by ``OfflineLicenceVerifier``.
///
/// Instants are whole milliseconds since the Unix epoch (a licence expiry with a fraction of a
/// millisecond is rounded down, so the token never outlives the licence).
///
/// ```swift
/// let outcome = verifier.verify(token)
/// if let claims = outcome.claims, outcome.isValid {
///     print(claims.product, claims.client, claims.expiresAt ?? "lifetime")
/// }
/// ```
public struct LicenceClaims: Hashable, Sendable, Codable {
    /// The licence's refid.
    ///
    /// ```swift
    /// let refid = claims.licence   // LC-7KQ2M9X4F1TJ8W3ZB6HD0RYC5N
    /// ```
    public var licence: Refid
    /// The product code the licence is for.
    ///
    /// ```swift
    /// if claims.product == "PRO-1Y" { enableProFeatures() }
    /// ```
    public var product: String
    /// The client the licence is bonded to.
    ///
    /// ```swift
    /// guard claims.client == signedInClient else { return }
    /// ```
    public var client: Refid
    /// When the licence expires; nil for a lifetime licence.
    ///
    /// ```swift
    /// let daysLeft = claims.expiresAt.map { Int($0.timeIntervalSince(clock.now()) / 86_400) }
    /// ```
    @ExplicitNull public var expiresAt: Date?
    /// The id of the key that signed the token.
    ///
    /// ```swift
    /// if claims.keyID == "2024-12" { refreshTokenSoon() }   // signed by the retiring key
    /// ```
    public var keyID: String
    /// When the token was signed.
    ///
    /// ```swift
    /// let age = clock.now().timeIntervalSince(claims.issuedAt)
    /// ```
    public var issuedAt: Date
    /// When the token itself stops being accepted, whatever the licence expiry; nil for no limit.
    ///
    /// ```swift
    /// if let notAfter = claims.notAfter, notAfter < clock.now() + .days(1) { refreshToken() }
    /// ```
    @ExplicitNull public var notAfter: Date?

    /// Claims as given; used with ``LicenceSigner/sign(_:)``. Usually the signer
    /// builds them from a ``Licence`` instead.
    ///
    /// ```swift
    /// let claims = LicenceClaims(licence: Refid(rawValue: "LC-…"), product: "PRO-1Y",
    ///                            client: Refid(rawValue: "CL-…"), expiresAt: nil,
    ///                            keyID: "k1", issuedAt: clock.now(), notAfter: nil)
    /// ```
    public init(licence: Refid, product: String, client: Refid, expiresAt: Date?, keyID: String,
                issuedAt: Date, notAfter: Date?) {
        self.licence = licence
        self.product = product
        self.client = client
        self.expiresAt = expiresAt
        self.keyID = keyID
        self.issuedAt = issuedAt
        self.notAfter = notAfter
    }
}
