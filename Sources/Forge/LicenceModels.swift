import Foundation
public import SuiteCore
public import SuiteStorage

/// Where a licence is in its life. Pending → active (activation, once); active → expired (by
/// time; the sweep records it); pending, active or expired → revoked; expired → active (renewal).
public enum LicenceStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    case pending, active, expired, revoked
    public var description: String { rawValue }
}

/// A licence: a key for a product, bonded to a client on activation.
///
/// The key itself is shown once, when the licence is minted (``MintedLicence/key``); the database
/// keeps only its SHA-256 digest and the last group (``keyHint``), like an API key.
public struct Licence: Hashable, Sendable {
    public var refid: Refid
    /// The product code, as the ``ProductCatalog`` knows it.
    public var product: String
    /// The client the licence is bonded to (set at activation, or reserved at mint).
    public var client: Refid?
    /// The client's reseller when the licence was bonded, for reseller-scoped analytics.
    public var reseller: Refid?
    /// The stored status. An active licence past ``expiresAt`` is expired even before the sweep
    /// records it: see ``effectiveStatus(at:)``.
    public var status: LicenceStatus
    /// Days of validity from activation; nil for a lifetime licence.
    public var durationDays: Int?
    public var metadata: Metadata
    /// The key's last group, e.g. `…-7QK2M`, to recognise a key without storing it.
    public var keyHint: String
    public var createdAt: Date
    public var activatedAt: Date?
    public var expiresAt: Date?
    public var revokedAt: Date?

    /// The status at `now`: an active licence whose expiry has passed is expired.
    public func effectiveStatus(at now: Date) -> LicenceStatus {
        if status == .active, let expiresAt, expiresAt <= now { return .expired }
        return status
    }
}

/// A freshly minted licence and its key — the only time the key is available.
public struct MintedLicence: Hashable, Sendable {
    public var licence: Licence
    public var key: LicenceKey
}

/// The answer of ``Licences/verify(_:)``.
public struct LicenceVerification: Hashable, Sendable {
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
}

/// A product as Forge sees it — supplied by a ``ProductCatalog``.
public typealias LicensedProduct = ProductSummary
