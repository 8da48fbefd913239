import Foundation
public import SuiteCore
public import SuiteStorage

/// Where a licence is in its life. Pending → active (activation, once); active → expired (by
/// time; the sweep records it); pending, active or expired → revoked; expired → active (renewal).
public enum LicenceStatus: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    case pending, active, expired, revoked
    public var description: String { rawValue }
}

/// A licence: a key for a product, bonded to a client on activation.
///
/// The key itself is shown once, when the licence is minted (``MintedLicence/key``); the database
/// keeps only its SHA-256 digest and the last group (``keyHint``), like an API key.
public struct Licence: Hashable, Sendable, Codable {
    public var refid: Refid
    /// The product code, as the ``ProductCatalog`` knows it.
    public var product: String
    /// The client the licence is bonded to (set at activation, or reserved at mint).
    @ExplicitNull public var client: Refid?
    /// The client's reseller when the licence was bonded, for reseller-scoped analytics.
    @ExplicitNull public var reseller: Refid?
    /// The stored status. An active licence past ``expiresAt`` is expired even before the sweep
    /// records it: see ``effectiveStatus(at:)``.
    public var status: LicenceStatus
    /// Days of validity from activation; nil for a lifetime licence.
    @ExplicitNull public var durationDays: Int?
    public var metadata: Metadata
    /// The key's last group, e.g. `…-7QK2M`, to recognise a key without storing it.
    public var keyHint: String
    public var createdAt: Date
    @ExplicitNull public var activatedAt: Date?
    @ExplicitNull public var expiresAt: Date?
    @ExplicitNull public var revokedAt: Date?

    /// The status at `now`: an active licence whose expiry has passed is expired.
    public func effectiveStatus(at now: Date) -> LicenceStatus {
        if status == .active, let expiresAt, expiresAt <= now { return .expired }
        return status
    }

    /// This licence with ``status`` as it is at `now` (see ``effectiveStatus(at:)``): what to show
    /// or serve, where the stored status may lag the sweep.
    public func effective(at now: Date) -> Licence {
        var copy = self
        copy.status = effectiveStatus(at: now)
        return copy
    }
}

/// A freshly minted licence and its key — the only time the key is available.
public struct MintedLicence: Hashable, Sendable, Codable {
    public var licence: Licence
    public var key: LicenceKey
}

/// The answer of ``Licences/verify(_:)``.
///
/// In JSON: `{"code": "valid", "is_valid": true, "licence": {…}}`.
public struct LicenceVerification: Hashable, Sendable, Encodable {
    /// Why a licence is or is not valid.
    public enum Code: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
        case valid
        /// The text is not a licence key at all.
        case malformed
        case notFound
        case pending
        case expired
        case revoked
        /// The licence is fine but its client is suspended or inactive.
        case clientSuspended
        public var description: String { rawValue }
    }

    public var code: Code
    /// The licence, when one was found.
    public var licence: Licence?
    /// Only ``Code/valid`` is valid.
    public var isValid: Bool { code == .valid }

    private enum CodingKeys: String, CodingKey { case code, isValid, licence }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(code, forKey: .code)
        try container.encode(isValid, forKey: .isValid)
        try container.encode(licence, forKey: .licence)
    }
}

/// A product as Forge sees it — supplied by a ``ProductCatalog``.
public typealias LicensedProduct = ProductSummary
