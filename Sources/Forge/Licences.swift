import Foundation
public import Logging
public import SuiteCore
public import SuiteStorage

/// The Forge module: licence keys for products, bonded to clients.
///
/// Activation is a compare-and-set (pending → active, exactly once, however many callers race),
/// and ``verify(_:)`` decides expiry from `expires_at` at the moment of the call — a sweep only
/// records it for reporting.
///
/// ```swift
/// let licences = Licences(database: database, products: catalog, clients: clients)
/// let minted = try await licences.make().product("PRO").days(365).mint()
/// print(minted.key.rawValue)                               // shown once; only a digest is stored
/// try await licences.activate(minted.licence.refid, for: client.refid)
/// let check = try await licences.verify(minted.key.rawValue)   // .valid
/// ```
public struct Licences: Sendable {
    /// Where licences are stored.
    public let database: any Database
    /// Validates products on mint (Wave's catalogue, a ``FixedProductCatalog``, or ``OpenProductCatalog``).
    public let products: any ProductCatalog
    /// Checks clients on mint, activation and verification (the Client module's `Clients`).
    public let clients: any ClientDirectory
    /// The source of every timestamp the module writes, and of the time expiry is decided against.
    public let clock: any WallClock
    /// Where ``LicenceActivated`` and the other events are published after commit.
    public let events: DomainEventBus
    /// Where the module logs.
    public let logger: Logger
    /// Verification reads, reused while the database reports no commit since (see `verify(_:)`).
    let verificationCache = ChangeCounterCache<VerificationRead>(capacity: 100_000)

    /// The longest licence, in days (100 years).
    public static let maximumDays = 36_500

    /// A service over `database` that checks products through `products` and clients through `clients`.
    public init(database: any Database, products: any ProductCatalog = OpenProductCatalog(), clients: any ClientDirectory,
                clock: any WallClock = SystemWallClock(), events: DomainEventBus = DomainEventBus(),
                logger: Logger = Logger(label: "clientsuite.forge")) {
        self.database = database
        self.products = products
        self.clients = clients
        self.clock = clock
        self.events = events
        self.logger = logger
    }

    /// Installs (or upgrades) the Forge tables. Idempotent.
    @discardableResult
    public static func install(on database: any Database) async throws -> InstallReport {
        try await SchemaInstaller.install([schema], on: database)[0]
    }

    /// A fluent builder for a new licence: `licences.make().product("PRO").days(365).mint()`.
    public func make() -> LicenceBuilder { LicenceBuilder(licences: self) }

    // MARK: Minting

    /// - Parameter resolvedClient: the activating client as the caller read it in this transaction
    ///   (nil: asked of the ``ClientDirectory``).
    func mint(_ builder: LicenceBuilder, activatingFor activation: Refid?, resolvedClient: ClientSummary? = nil, actor: String,
              in tx: any Transaction) throws -> MintedLicence {
        let actor = try Self.text(actor, field: "actor", maximum: 255)
        let product: ProductSummary
        if let resolved = builder.resolvedProduct {
            product = resolved
        } else {
            let code = trimmingWhitespace(builder.product ?? "", newlines: false)
            guard !code.isEmpty else { throw ForgeError.invalid("product", "required") }
            guard let found = try products.product(code, in: tx) else {
                throw ForgeError(.invalidProduct, message: "Invalid Product: no product with code \(code.prefix(64))")
            }
            product = found
        }
        guard product.isActive else { throw ForgeError(.invalidProduct, message: "Invalid Product: \(product.code) is not for sale") }
        let days = builder.isLifetime ? nil : (builder.days ?? product.licenceDays)
        if let days, !(1...Self.maximumDays).contains(days) {
            throw ForgeError.invalid("duration", "use 1…\(Self.maximumDays) days, or lifetime")
        }
        let metadataText = builder.metadata.jsonText()
        guard metadataText.utf8.count <= 16_384, JSONValue.object(builder.metadata).depth <= 5 else {
            throw ForgeError.invalid("metadata", "at most 16384 bytes of JSON and 5 levels")
        }
        if let activation, let reserved = builder.client, reserved != activation {
            throw ForgeError(.clientMismatch, message: "Client Mismatch: this licence is reserved for another client")
        }
        let client = activation ?? builder.client
        var reseller: Refid?
        if let client {
            let summary = try usableClient(client, resolved: resolvedClient.flatMap { $0.refid == client ? $0 : nil }, in: tx)
            reseller = summary.reseller
        }
        let key = LicenceKey.generate()
        let refid = Refid.generate(prefix: "LC-")
        let now = Timestamp(clock.now())
        let status: LicenceStatus = activation == nil ? .pending : .active
        let expires = activation == nil ? nil : try days.map { try Self.adding(days: $0, to: now) }
        let activatedAt = activation == nil ? nil : now
        let id = try tx.insertReturningID("""
            INSERT INTO forge_licences (refid, key_digest, key_hint, product, client_refid, reseller_refid, status, duration_days,
                                        metadata, version, created_at, activated_at, expires_at, updated_at)
            VALUES (\(refid), \(key.digest), \(key.hint), \(product.code), \(client), \(reseller), \(status.rawValue),
                    \(days.map(Int64.init)), \(metadataText), \(activation == nil ? 1 : 2), \(now), \(activatedAt), \(expires), \(now))
            """)
        let term = days.map { "\($0) days" } ?? "lifetime"
        if let activation {
            // Two audit entries in one statement: minted (version 1), then activated (version 2).
            // Deferred: on PostgreSQL the commit waits for it, not a wait of its own.
            try Self.auditLog.record([
                .init(owner: id, version: 1, event: "minted", from: nil, to: .pending, actor: actor, detail: term, at: now),
                .init(owner: id, version: 2, event: "activated", from: .pending, to: .active, actor: actor,
                      detail: activation.rawValue, at: now),
            ], deferred: true, in: tx)
        } else {
            try audit(id: id, version: 1, event: "minted", from: nil, to: .pending, actor: actor, reason: nil, detail: term, at: now, in: tx)
        }
        let licence = Licence(refid: refid, product: product.code, client: client, reseller: reseller, status: status,
                              durationDays: days, metadata: builder.metadata, keyHint: key.hint, createdAt: now.date,
                              activatedAt: activatedAt?.date, expiresAt: expires?.date)
        var published: [any DomainEvent] = [LicenceMinted(licence: refid, product: product.code, client: client)]
        if let activation { published.append(LicenceActivated(licence: refid, client: activation, expiresAt: expires?.date)) }
        let events = events, all = published
        tx.afterCommit { events.publish(all) }
        return MintedLicence(licence: licence, key: key)
    }

    // MARK: Activation

    /// Bonds a pending licence to `client` and starts its term: pending → active, once. Of two
    /// concurrent activations exactly one succeeds; the other throws `.statusConflict`.
    @discardableResult
    public func activate(_ refid: Refid, for client: Refid, actor: String = "system") async throws -> Licence {
        try await database.write { tx in try self.activate(refid, for: client, actor: actor, in: tx) }
    }

    /// Activates the licence with this key (as typed by a person).
    @discardableResult
    public func activate(key: String, for client: Refid, actor: String = "system") async throws -> Licence {
        let key = try LicenceKey(parsing: key)
        return try await database.write { tx in
            guard let refid = try self.findByKeyDigest(key.digest, in: tx)?.refid else {
                throw ForgeError.notFound("key")
            }
            return try self.activate(refid, for: client, actor: actor, in: tx)
        }
    }

    /// Activation inside an open transaction (a workflow mints and activates in one commit).
    @discardableResult
    public func activate(_ refid: Refid, for client: Refid, actor: String = "system", in tx: any Transaction) throws -> Licence {
        let actor = try Self.text(actor, field: "actor", maximum: 255)
        let (row, current) = try locked(refid, in: tx)
        let move = LicenceTransition.activate
        let target = try move.target(from: current.status, orThrow: ForgeError.transitionDenied)
        if let reserved = current.client, reserved != client {
            throw ForgeError(.clientMismatch, message: "Client Mismatch: this licence was minted for another client")
        }
        let summary = try usableClient(client, in: tx)
        let now = Timestamp(clock.now())
        let expires = try current.durationDays.map { try Self.adding(days: $0, to: now) }
        let version = try tx.advanceVersion(of: "forge_licences", id: row.id, from: row.version, setting: """
            status = \(target.rawValue), client_refid = \(client), reseller_refid = \(summary.reseller), activated_at = \(now), \
            expires_at = \(expires), 
            """, updatedAt: now)
        try audit(id: row.id, version: version, event: move.auditEvent, from: current.status, to: target, actor: actor,
                  reason: nil, detail: client.rawValue, at: now, in: tx)
        var licence = current
        licence.status = target
        licence.client = client
        licence.reseller = summary.reseller
        licence.activatedAt = now.date
        licence.expiresAt = expires?.date
        let events = events, activated = LicenceActivated(licence: refid, client: client, expiresAt: expires?.date)
        tx.afterCommit { events.publish(activated) }
        return licence
    }

    // MARK: Verification

    /// Checks a key as typed by a person: `.valid` only for an active licence, within its term,
    /// whose client is neither suspended nor inactive. Bad text is `.malformed`, not an error.
    public func verify(_ key: String) async throws -> LicenceVerification {
        guard let parsed = try? LicenceKey(parsing: key) else { return LicenceVerification(code: .malformed, licence: nil) }
        return try await verify(parsed)
    }

    /// Verifies a parsed key.
    ///
    /// On an engine with a ``SuiteStorage/Database/changeCounter()`` (SQLite files), what was read
    /// for a key is kept and reused while no write has committed anywhere since — so repeated
    /// verifications cost a counter read, and any change (a revocation, a suspended client, from
    /// this process or another) is seen by the next call. Expiry is always decided from the clock.
    public func verify(_ key: LicenceKey) async throws -> LicenceVerification {
        let digest = key.digest
        let counter = try database.changeCounter()
        if let counter, let found = verificationCache.lookup(digest, counter: counter) {
            return evaluate(found)
        }
        let found = try await database.pointRead { tx in try self.lookUp(digest: digest, in: tx) }
        if let counter { verificationCache.store(found, for: digest, counter: counter) }
        return evaluate(found)
    }

    /// Verification inside an open transaction.
    public func verify(_ key: LicenceKey, in tx: any Transaction) throws -> LicenceVerification {
        evaluate(try lookUp(digest: key.digest, in: tx))
    }

    /// The licence with this key digest and its client's status: everything a verification reads.
    private func lookUp(digest: String, in tx: any Transaction) throws -> VerificationRead {
        guard let licence = try findByKeyDigest(digest, in: tx) else {
            return VerificationRead(licence: nil, clientStatus: nil)
        }
        let clientStatus = try licence.client.flatMap { try clients.client($0, in: tx)?.status }
        return VerificationRead(licence: licence, clientStatus: clientStatus)
    }

    private func evaluate(_ found: VerificationRead) -> LicenceVerification {
        guard let licence = found.licence else { return LicenceVerification(code: .notFound, licence: nil) }
        let code: LicenceVerification.Code
        switch licence.effectiveStatus(at: clock.now()) {
        case .pending: code = .pending
        case .expired: code = .expired
        case .revoked: code = .revoked
        case .active:
            // An active licence always has a client; one that vanished is no better than a suspended one.
            let status = found.clientStatus
            code = licence.client != nil && status?.mayHoldLicences != true ? .clientSuspended : .valid
        }
        return LicenceVerification(code: code, licence: licence)
    }

    // MARK: Lookups

    /// The licence with `refid`, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Licence? {
        try await database.read { tx in try self.findByRefid(refid, in: tx) }
    }

    /// The licence with `refid`, or nil, read inside an open transaction.
    public func findByRefid(_ refid: Refid, in tx: any Transaction) throws -> Licence? {
        try tx.queryFirst("SELECT \(raw: Self.columns) FROM forge_licences WHERE refid = \(refid)").map(Self.decode)
    }

    /// The licence with `refid`; throws "Licence Not Found" if there is none.
    public func find(_ refid: Refid) async throws -> Licence {
        guard let licence = try await findByRefid(refid) else { throw ForgeError.notFound("refid") }
        return licence
    }

    /// One page of a client's licences, oldest first.
    public func getByClient(_ client: Refid, limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Licence> {
        try await query().forClient(client).limit(limit).after(cursor).fetch()
    }

    /// A composable, paginated query: `licences.query().active().forClient(c).fetch()`.
    public func query() -> LicenceQuery { LicenceQuery(licences: self) }

    /// The licence's audit trail, oldest first.
    public func auditTrail(of refid: Refid, limit: Int = 100) async throws -> [LicenceAuditEntry] {
        guard (1...1000).contains(limit) else { throw ForgeError.invalid("limit", "use 1…1000") }
        return try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM forge_licences WHERE refid = \(refid)") else {
                throw ForgeError.notFound("refid")
            }
            return try Self.auditLog.trail(owner: id, limit: limit, in: tx)
        }
    }

    // MARK: Internals

    static let columns = """
        id, version, refid, key_hint, product, client_refid, reseller_refid, status, duration_days, metadata, created_at, \
        activated_at, expires_at, revoked_at
        """

    static func decode(_ row: Row) throws -> Licence {
        guard let status = LicenceStatus(rawValue: try row.string("status")) else {
            throw StorageError(code: .decoding, message: "stored licence data has an unexpected shape")
        }
        return Licence(refid: try row.refid("refid"), product: try row.string("product"),
                       client: try row.optionalRefid("client_refid"), reseller: try row.optionalRefid("reseller_refid"),
                       status: status, durationDays: try row.optionalInt64("duration_days").map { Int($0) },
                       metadata: Metadata(jsonText: try row.string("metadata")) ?? [:], keyHint: try row.string("key_hint"),
                       createdAt: try row.timestamp("created_at").date,
                       activatedAt: try row.optionalInt64("activated_at").map { Timestamp(milliseconds: $0).date },
                       expiresAt: try row.optionalInt64("expires_at").map { Timestamp(milliseconds: $0).date },
                       revokedAt: try row.optionalInt64("revoked_at").map { Timestamp(milliseconds: $0).date })
    }

    func locked(_ refid: Refid, in tx: any Transaction) throws -> ((id: Int64, version: Int64), Licence) {
        guard let row = try tx.queryFirst("""
            SELECT \(raw: Self.columns) FROM forge_licences WHERE refid = \(refid)\(raw: tx.dialect.forUpdate)
            """)
        else { throw ForgeError.notFound("refid") }
        return ((try row.int64("id"), try row.int64("version")), try Self.decode(row))
    }

    /// The client, which must exist and be neither suspended nor inactive.
    private func usableClient(_ refid: Refid, resolved: ClientSummary? = nil, in tx: any Transaction) throws -> ClientSummary {
        guard let summary = try resolved ?? clients.client(refid, in: tx) else {
            throw ForgeError(.invalidClient, message: "Invalid Client: no client with refid \(refid.rawValue.prefix(64))")
        }
        guard summary.status.mayHoldLicences else {
            throw ForgeError(.invalidClient, message: "Invalid Client: the client is \(summary.status)")
        }
        return summary
    }

    static func adding(days: Int, to start: Timestamp) throws -> Timestamp {
        let (sum, overflow) = start.milliseconds.addingReportingOverflow(Int64(days) * 86_400_000)
        guard !overflow else { throw ForgeError.invalid("duration", "the expiry would overflow") }
        return Timestamp(milliseconds: sum)
    }

    static let auditLog = AuditLog<LicenceStatus>(table: "forge_audit", owner: "licence_id", hasDetail: true)

    func audit(id: Int64, version: Int64, event: String, from: LicenceStatus?, to: LicenceStatus?, actor: String,
               reason: String?, detail: String?, at: Timestamp, in tx: any Transaction) throws {
        try Self.auditLog.record(owner: id, version: version, event: event, from: from, to: to, actor: actor, reason: reason,
                                 detail: detail, at: at, in: tx)
    }

    static func text(_ raw: String, field: String, maximum: Int) throws -> String {
        let text = trimmingWhitespace(raw)
        guard !text.isEmpty else { throw ForgeError.invalid(field, "required") }
        guard hasAtMostCharacters(text, maximum), !containsControlCharacters(text) else {
            throw ForgeError.invalid(field, "at most \(maximum) characters, no control characters")
        }
        return text
    }
}

/// A fluent, value-typed builder for a new licence. Nothing is checked or written until ``mint(actor:)``.
public struct LicenceBuilder: Sendable {
    let licences: Licences
    var product: String?
    var resolvedProduct: ProductSummary?
    var days: Int?
    var isLifetime = false
    var client: Refid?
    var metadata: Metadata = [:]

    /// The product code (required), checked through the ``ProductCatalog``.
    public func product(_ code: String) -> LicenceBuilder { with { $0.product = code; $0.resolvedProduct = nil } }
    /// A product the caller has already read in the minting transaction (Wave's `Product.summary`):
    /// the ``ProductCatalog`` is not asked again. Its ``ProductSummary/isActive`` is still checked.
    public func product(_ product: ProductSummary) -> LicenceBuilder {
        with { $0.product = product.code; $0.resolvedProduct = product }
    }
    /// Days of validity from activation (default: the product's licence days, else lifetime).
    public func days(_ days: Int) -> LicenceBuilder { with { $0.days = days; $0.isLifetime = false } }
    /// A licence that never expires.
    public func lifetime() -> LicenceBuilder { with { $0.isLifetime = true; $0.days = nil } }
    /// Reserves the licence for one client: only that client can activate it.
    public func client(_ refid: Refid?) -> LicenceBuilder { with { $0.client = refid } }
    /// Merges custom JSON data into the licence.
    public func metadata(_ data: Metadata) -> LicenceBuilder { with { $0.metadata = $0.metadata.merging(metadata: data) } }

    /// Mints the licence (status pending) and returns it with its key — the only time the key is available.
    public func mint(actor: String = "system") async throws -> MintedLicence {
        let builder = self
        return try await licences.database.write { tx in try builder.licences.mint(builder, activatingFor: nil, actor: actor, in: tx) }
    }

    /// Mints the licence inside an open transaction.
    public func mint(actor: String = "system", in tx: any Transaction) throws -> MintedLicence {
        try licences.mint(self, activatingFor: nil, actor: actor, in: tx)
    }

    /// Mints the licence already activated for `client` — what a sale does — in one step: the
    /// same checks and audit entries (minted, then activated) as `mint()` followed by
    /// ``Licences/activate(_:for:actor:)``, with one row write instead of two.
    public func mintActivated(for client: Refid, actor: String = "system") async throws -> MintedLicence {
        let builder = self
        return try await licences.database.write { tx in
            try builder.licences.mint(builder, activatingFor: client, actor: actor, in: tx)
        }
    }

    /// Mints the licence activated for `client` inside an open transaction.
    public func mintActivated(for client: Refid, actor: String = "system", in tx: any Transaction) throws -> MintedLicence {
        try licences.mint(self, activatingFor: client, actor: actor, in: tx)
    }

    /// Mints the licence activated for a client the caller has already read in this transaction
    /// (Client's `Client.summary`): the ``ClientDirectory`` is not asked again. The client's
    /// standing is still checked.
    public func mintActivated(for client: ClientSummary, actor: String = "system", in tx: any Transaction) throws -> MintedLicence {
        try licences.mint(self, activatingFor: client.refid, resolvedClient: client, actor: actor, in: tx)
    }

    private func with(_ change: (inout LicenceBuilder) -> Void) -> LicenceBuilder {
        var copy = self
        change(&copy)
        return copy
    }
}

/// One entry of a licence's audit trail; ``AuditEntry/detail`` is the duration on mint, the
/// client on activation, `+N days` on renewal.
public typealias LicenceAuditEntry = AuditEntry<LicenceStatus>

/// A licence was minted.
public struct LicenceMinted: DomainEvent, Hashable {
    /// The event's name, `forge.licence_minted`.
    public var name: String { "forge.licence_minted" }
    /// The new licence's refid (`LC-…`).
    public var licence: Refid
    /// The product code it licenses.
    public var product: String
    /// The client it is reserved for or activated by, or nil.
    public var client: Refid?
}

/// A licence was activated for a client.
public struct LicenceActivated: DomainEvent, Hashable {
    /// The event's name, `forge.licence_activated`.
    public var name: String { "forge.licence_activated" }
    /// The licence's refid (`LC-…`).
    public var licence: Refid
    /// The client that activated it.
    public var client: Refid
    /// When the licence expires; nil for a lifetime licence.
    public var expiresAt: Date?
}

/// A licence was revoked.
public struct LicenceRevoked: DomainEvent, Hashable {
    /// The event's name, `forge.licence_revoked`.
    public var name: String { "forge.licence_revoked" }
    /// The licence's refid (`LC-…`).
    public var licence: Refid
    /// Why, if the caller said; nil otherwise.
    public var reason: String?
}
