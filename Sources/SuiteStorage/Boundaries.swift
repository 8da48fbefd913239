import Foundation
public import SuiteCore

/// The boundary protocols through which modules see each other. No domain module imports
/// another; the `Suite` wires real implementations in, and an app may supply its own.
///
/// Lookups receive the caller's open ``Transaction``, so that an implementation backed by the same
/// database reads consistently inside the write that depends on it; one that is not (a remote user
/// directory, a static catalogue) ignores it.

/// What the Client module needs to know about a reseller.
public struct ResellerSummary: Hashable, Sendable {
    /// The reseller's refid (`RS-…` for Ally's resellers).
    public var refid: Refid
    /// Whether the reseller may currently take on and serve clients.
    public var isActive: Bool

    /// A summary a ``ResellerDirectory`` returns.
    public init(refid: Refid, isActive: Bool) {
        self.refid = refid
        self.isActive = isActive
    }
}

/// Answers "is this a registered reseller?" — implemented by the Ally module.
public protocol ResellerDirectory: Sendable {
    /// The reseller with this refid, or nil if there is none.
    func reseller(_ refid: Refid, in transaction: any Transaction) throws -> ResellerSummary?
}

/// A directory that knows no resellers: every reseller refid is rejected as "Invalid Reseller".
/// The default until the Ally module is installed.
public struct NoResellers: ResellerDirectory {
    /// The empty directory.
    public init() {}
    /// Always nil.
    public func reseller(_ refid: Refid, in transaction: any Transaction) throws -> ResellerSummary? { nil }
}

/// A user account of the host application, which a client may be bound to (1:1).
public struct UserAccount: Hashable, Sendable {
    /// The application's id for the user.
    public var id: String
    /// The user's login email, if the directory knows it.
    public var email: String?

    /// A user as a ``UserDirectory`` returns it.
    public init(id: String, email: String? = nil) {
        self.id = id
        self.email = email
    }
}

/// The host application's user accounts, as the Client module sees them.
public protocol UserDirectory: Sendable {
    /// The user with this id, or nil.
    func user(id: String, in transaction: any Transaction) throws -> UserAccount?
    /// The user whose login email is `email` (already trimmed and lower-cased), or nil.
    func user(email: String, in transaction: any Transaction) throws -> UserAccount?
}

/// A user directory that accepts any non-empty user id as it is and finds no user by email.
/// The default for apps that keep users elsewhere and validate ids themselves.
public struct OpaqueUserIDs: UserDirectory {
    /// The directory.
    public init() {}
    /// A user with `id` and no email, or nil for an empty id.
    public func user(id: String, in transaction: any Transaction) throws -> UserAccount? {
        id.isEmpty ? nil : UserAccount(id: id)
    }
    /// Always nil.
    public func user(email: String, in transaction: any Transaction) throws -> UserAccount? { nil }
}

/// What other modules need to know about a client — implemented by the Client module.
public struct ClientSummary: Hashable, Sendable {
    /// The client's refid (`CL-…` by default).
    public var refid: Refid
    /// The client's name.
    public var name: String
    /// The client's email.
    public var email: String
    /// The managing reseller, or nil for a standalone client.
    public var reseller: Refid?
    /// The client's standing in its lifecycle.
    public var status: ClientStanding

    /// A summary a ``ClientDirectory`` returns.
    public init(refid: Refid, name: String, email: String, reseller: Refid?, status: ClientStanding) {
        self.refid = refid
        self.name = name
        self.email = email
        self.reseller = reseller
        self.status = status
    }
}

/// A client's lifecycle status as other modules see it: the same four states as the Client
/// module's own `ClientStatus`, without its transition rules.
public enum ClientStanding: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// The client's status: `pending`, `active`, `suspended` or `inactive`.
    case pending, active, suspended, inactive

    /// Whether licences may be minted for and activated by the client (not suspended, not inactive).
    public var mayHoldLicences: Bool { self == .pending || self == .active }

    /// The status's name.
    public var description: String { rawValue }
}

/// Answers "does this client exist, and who owns it?" — implemented by the Client module.
public protocol ClientDirectory: Sendable {
    /// The client with this refid, or nil if there is none.
    func client(_ refid: Refid, in transaction: any Transaction) throws -> ClientSummary?
}

/// A client directory that knows no clients: every client refid is rejected as invalid. The
/// default when the Client module is not installed.
public struct NoClients: ClientDirectory {
    /// The empty directory.
    public init() {}
    /// Always nil.
    public func client(_ refid: Refid, in transaction: any Transaction) throws -> ClientSummary? { nil }
}

/// How many clients each reseller acquired — implemented by the Client module from its daily
/// rollup, read by Ally's analytics. The cost of a call grows with resellers × days, never with
/// the number of clients.
public protocol ClientAcquisitions: Sendable {
    /// Clients created between `start` and `end` (inclusive UTC days; nil = unbounded), per
    /// reseller. Only resellers with at least one client appear. With `reseller`, only that one.
    func clientsAcquired(from start: CivilDate?, to end: CivilDate?, reseller: Refid?,
                         in transaction: any Transaction) throws -> [Refid: Int64]
}

/// What Forge needs to know about a product — implemented by Wave's product catalogue.
public struct ProductSummary: Hashable, Sendable {
    /// The product's stable code (e.g. a SKU such as `PRO-1Y`).
    public var code: String
    /// The product's display name.
    public var name: String
    /// Whether new licences may be minted for it.
    public var isActive: Bool
    /// The licence duration in days the product sells, or nil for lifetime.
    public var licenceDays: Int?

    /// A summary a ``ProductCatalog`` returns: active and lifetime unless told otherwise.
    public init(code: String, name: String, isActive: Bool = true, licenceDays: Int? = nil) {
        self.code = code
        self.name = name
        self.isActive = isActive
        self.licenceDays = licenceDays
    }
}

/// Answers "is this a product we license?" — implemented by the Wave module; Forge checks every
/// mint through it.
public protocol ProductCatalog: Sendable {
    /// The product with this code, or nil.
    func product(_ code: String, in transaction: any Transaction) throws -> ProductSummary?
}

/// A product catalogue given as a fixed list — for apps that keep products in code or config.
public struct FixedProductCatalog: ProductCatalog {
    /// The products by code.
    public let products: [String: ProductSummary]

    /// A catalogue of `products`; of two with the same code, the last one wins.
    public init(_ products: [ProductSummary]) {
        self.products = Dictionary(products.map { ($0.code, $0) }, uniquingKeysWith: { _, last in last })
    }

    /// The product with this code, or nil.
    public func product(_ code: String, in transaction: any Transaction) throws -> ProductSummary? { products[code] }
}

/// A catalogue that accepts any well-formed product code (1–64 letters, digits, `.`, `_`, `-`)
/// as an active product with no default duration. The default until a real catalogue (Wave) is
/// installed.
public struct OpenProductCatalog: ProductCatalog {
    /// The catalogue.
    public init() {}

    /// An active product named after `code`, or nil when the code is not well formed.
    public func product(_ code: String, in transaction: any Transaction) throws -> ProductSummary? {
        // ASCII letters and digits, `.`, `_` and `-`: checked byte by byte (so a character count is a byte count).
        let allowed = code.utf8.allSatisfy { byte in
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
        }
        return (1...64).contains(code.utf8.count) && allowed ? ProductSummary(code: code, name: code) : nil
    }
}
