import Foundation
public import Logging
public import SuiteCore
public import SuiteStorage

/// The Client module's service: registration, lookups, the lifecycle state machine, user
/// binding, metadata, scopes and analytics.
///
/// Every operation has two forms: an `async` one that runs in its own transaction, and one that
/// takes an open ``Transaction`` so that a workflow can compose it with other modules atomically.
///
/// ```swift
/// let clients = Clients(database: database)
/// let acme = try await clients.make()
///     .name("Acme Corporation")
///     .email("billing@acme.com")
///     .metadata(["segment": "Enterprise"])
///     .create()
/// try await clients.activate(acme.refid, actor: "onboarding")
/// ```
public struct Clients: Sendable {
    /// Where clients are stored.
    public let database: any Database
    /// The module's settings.
    public let configuration: ClientConfiguration
    /// Checks the reseller a client is attributed to (Ally's `Allies`, or ``NoResellers``).
    public let resellers: any ResellerDirectory
    /// Checks the user a client is bound to (``OpaqueUserIDs`` unless the app supplies its own).
    public let users: any UserDirectory
    /// The source of every timestamp the module writes.
    public let clock: any WallClock
    /// Where ``ClientCreated``, ``ClientStatusChanged`` and ``ClientUserBindingChanged`` are published after commit.
    public let events: DomainEventBus
    /// Where the module logs.
    public let logger: Logger
    let policy: MetadataPolicy

    /// A service over `database`; without a reseller directory every reseller is refused as "Invalid Reseller".
    public init(
        database: any Database,
        configuration: ClientConfiguration = .defaults,
        resellers: any ResellerDirectory = NoResellers(),
        users: any UserDirectory = OpaqueUserIDs(),
        clock: any WallClock = SystemWallClock(),
        events: DomainEventBus = DomainEventBus(),
        logger: Logger = Logger(label: "clientsuite.client")
    ) {
        self.database = database
        self.configuration = configuration
        self.resellers = resellers
        self.users = users
        self.clock = clock
        self.events = events
        self.logger = logger
        policy = MetadataPolicy(configuration)
    }

    /// Installs (or upgrades) the Client tables. Idempotent.
    @discardableResult
    public static func install(on database: any Database) async throws -> InstallReport {
        try await SchemaInstaller.install([schema], on: database)[0]
    }

    /// A fluent builder for a new client.
    public func make() -> ClientBuilder { ClientBuilder(clients: self) }

    // MARK: Creating

    /// Validates and stores a new client inside `tx`. Nothing is written if any check fails.
    public func create(_ builder: ClientBuilder, actor: String = "system", in tx: any Transaction) throws -> Client {
        let draft = try builder.validated(policy: policy)
        let actor = try ClientValidation.actor(actor)
        try Self.checkPortfolio(builder, draft)
        return try insert(draft, actor: actor, in: tx)
    }

    /// Validates and stores a new client in its own transaction.
    public func create(_ builder: ClientBuilder, actor: String = "system") async throws -> Client {
        let draft = try builder.validated(policy: policy)
        let actor = try ClientValidation.actor(actor)
        try Self.checkPortfolio(builder, draft)
        return try await database.write { tx in try self.insert(draft, actor: actor, in: tx) }
    }

    /// A builder made by a reseller's portfolio creates clients for that reseller only.
    private static func checkPortfolio(_ builder: ClientBuilder, _ draft: ClientDraft) throws {
        if let owner = builder.portfolioReseller, draft.reseller != owner {
            throw ClientError.invalidReseller("a reseller's portfolio creates clients for that reseller only")
        }
    }

    private func insert(_ draft: ClientDraft, actor: String, in tx: any Transaction) throws -> Client {
        if let reseller = draft.reseller {
            guard let summary = try resellers.reseller(reseller, in: tx) else {
                throw ClientError.invalidReseller("no reseller with refid \(reseller.rawValue.prefix(64))")
            }
            guard summary.isActive else { throw ClientError.invalidReseller("the reseller is suspended") }
        }
        var userID = draft.userID
        if let explicit = userID {
            guard try users.user(id: explicit, in: tx) != nil else {
                throw ClientError(.invalidUser, field: "user", message: "Invalid User: no user with this id")
            }
        } else if configuration.autoBindUser, let user = try users.user(email: draft.normalizedEmail, in: tx) {
            let taken = try tx.queryFirst("SELECT refid FROM client_clients WHERE user_id = \(user.id)") != nil
            if taken {
                logger.info("auto-bind skipped: user already bound to another client")
            } else {
                userID = user.id
            }
        }
        let refid = Refid.generate(prefix: configuration.refidPrefix)
        let now = Timestamp(clock.now())
        let status = configuration.defaultStatus
        let sealed = try policy.seal(draft.secretMetadata, refid: refid)
        let id: Int64
        do {
            id = try tx.insertReturningID("""
                INSERT INTO client_clients
                    (refid, name, email, email_normalized, phone, status, owner_refid, user_id, metadata, secret_metadata,
                     version, created_at, updated_at)
                VALUES (\(refid), \(draft.name), \(draft.email), \(draft.normalizedEmail), \(draft.phone), \(status.rawValue),
                        \(draft.reseller), \(userID), \(draft.metadataText), \(sealed.map(SQLValue.blob) ?? .null), 1, \(now), \(now))
                """)
        } catch let error as StorageError {
            throw Self.mapUniqueViolation(error)
        }
        try audit(clientID: id, version: 1, event: "created", from: nil, to: status, actor: actor, reason: nil, at: now, in: tx)
        try adjustRollup(day: now, scope: draft.reseller, [(status, 1)], in: tx)
        let client = Client(refid: refid, name: draft.name, email: draft.email, phone: draft.phone, status: status,
                            reseller: draft.reseller, userID: userID, metadata: draft.metadata,
                            hasSecretMetadata: sealed != nil, createdAt: now.date, updatedAt: now.date)
        let events = events
        let boundUser = userID
        tx.afterCommit {
            events.publish(ClientCreated(refid: refid, status: status, reseller: client.reseller))
            if let boundUser { events.publish(ClientUserBindingChanged(refid: refid, userID: boundUser)) }
        }
        return client
    }

    // MARK: Finding

    /// The client with `refid`; throws "Client Not Found" if there is none.
    public func find(_ refid: Refid) async throws -> Client {
        guard let client = try await findByRefid(refid) else { throw ClientError.notFound(refid.rawValue) }
        return client
    }

    /// The client with `refid`, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Client? {
        try await database.read { tx in try self.findByRefid(refid, in: tx) }
    }

    /// The client with `refid`, or nil, read inside an open transaction.
    public func findByRefid(_ refid: Refid, in tx: any Transaction) throws -> Client? {
        try tx.queryFirst("SELECT \(raw: Self.columns) FROM client_clients WHERE refid = \(refid)").map(Self.decode)
    }

    /// The client registered with `email` (compared trimmed and case-insensitively), or nil.
    public func findByEmail(_ email: String) async throws -> Client? {
        let normalized = email.trimmingWhitespace.lowercased()
        return try await database.read { tx in
            try tx.queryFirst("SELECT \(raw: Self.columns) FROM client_clients WHERE email_normalized = \(normalized)")
                .map(Self.decode)
        }
    }

    /// The client bound to user `userID`, or nil.
    public func findByUser(_ userID: String) async throws -> Client? {
        try await database.read { tx in
            try tx.queryFirst("SELECT \(raw: Self.columns) FROM client_clients WHERE user_id = \(userID)").map(Self.decode)
        }
    }

    /// One page of the clients managed by `reseller`, oldest first.
    public func getByReseller(_ reseller: Refid, limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Client> {
        try await query().forReseller(reseller).limit(limit).after(cursor).fetch()
    }

    /// A composable, paginated query over clients: `clients.query().active().reselled().fetch()`.
    public func query() -> ClientQuery { ClientQuery(clients: self) }

    /// Analytics over clients: `clients.analytics().monthly().signupTrends(from:to:)`.
    public func analytics() -> ClientAnalytics { ClientAnalytics(database: database) }

    // MARK: Lifecycle

    /// Applies a lifecycle action in its own transaction.
    @discardableResult
    public func transition(_ action: ClientTransition, _ refid: Refid, actor: String = "system", reason: String? = nil) async throws -> Client {
        let actor = try ClientValidation.actor(actor)
        let reason = try ClientValidation.reason(reason)
        return try await database.write { tx in try self.apply(action, refid, actor: actor, reason: reason, in: tx) }
    }

    /// Applies a lifecycle action inside `tx`: checks the transition table, updates the status with
    /// a compare-and-set, writes the audit entry and the rollup, and publishes
    /// ``ClientStatusChanged`` after commit. An illegal move throws "Status Transition Denied".
    @discardableResult
    public func transition(_ action: ClientTransition, _ refid: Refid, actor: String = "system", reason: String? = nil,
                           in tx: any Transaction) throws -> Client {
        try apply(action, refid, actor: try ClientValidation.actor(actor), reason: try ClientValidation.reason(reason), in: tx)
    }

    /// Applies `action` inside `tx` when the transition table allows it from the client's current
    /// status, and otherwise leaves the client as it is: one locked read either way (a paid
    /// invoice activates a pending client, and an active one stays active). Returns the client as
    /// it is now, and whether it moved.
    public func transitionIfAllowed(_ action: ClientTransition, _ refid: Refid, actor: String = "system",
                                    reason: String? = nil, in tx: any Transaction) throws -> (client: Client, moved: Bool) {
        let actor = try ClientValidation.actor(actor), reason = try ClientValidation.reason(reason)
        let (row, current) = try lockedClient(refid, in: tx)
        guard action.isAllowed(from: current.status) else { return (current, false) }
        return (try apply(action, to: row, current, actor: actor, reason: reason, in: tx), true)
    }

    private func apply(_ action: ClientTransition, _ refid: Refid, actor: String, reason: String?, in tx: any Transaction) throws -> Client {
        let (row, current) = try lockedClient(refid, in: tx)
        return try apply(action, to: row, current, actor: actor, reason: reason, in: tx)
    }

    private func apply(_ action: ClientTransition, to row: RowVersion, _ current: Client, actor: String, reason: String?,
                       in tx: any Transaction) throws -> Client {
        let refid = current.refid
        let target = try action.target(from: current.status, orThrow: ClientError.transitionDenied)
        let now = Timestamp(clock.now())
        let version = try bumpVersion(row, setting: "status = \(target.rawValue), ", at: now, in: tx)
        try audit(clientID: row.id, version: version, event: action.rawValue, from: current.status, to: target, actor: actor,
                  reason: reason, at: now, in: tx)
        let created = Timestamp(current.createdAt)
        try adjustRollup(day: created, scope: current.reseller, [(current.status, -1), (target, 1)], in: tx)
        var updated = current
        updated.status = target
        updated.updatedAt = now.date
        let event = ClientStatusChanged(refid: refid, from: current.status, to: target, actor: actor, reason: reason, at: now.date)
        let events = events
        tx.afterCommit { events.publish(event) }
        return updated
    }

    // MARK: User binding

    /// Binds user `userID` to the client (1:1). Binding the same pair again changes nothing.
    @discardableResult
    public func bindUser(_ userID: String, to refid: Refid, actor: String = "system") async throws -> Client {
        let userID = try ClientValidation.userID(userID)
        let actor = try ClientValidation.actor(actor)
        return try await database.write { tx in try self.bindUser(userID, to: refid, actor: actor, in: tx) }
    }

    /// The same inside an open transaction.
    @discardableResult
    public func bindUser(_ userID: String, to refid: Refid, actor: String = "system", in tx: any Transaction) throws -> Client {
        let userID = try ClientValidation.userID(userID)
        let actor = try ClientValidation.actor(actor)
        guard try users.user(id: userID, in: tx) != nil else {
            throw ClientError(.invalidUser, field: "user", message: "Invalid User: no user with this id")
        }
        let (row, current) = try lockedClient(refid, in: tx)
        if current.userID == userID { return current }
        guard current.userID == nil else {
            throw ClientError(.alreadyBound, field: "user", message: "Already Bound: this client is bound to another user; unbind it first")
        }
        if try tx.queryFirst("SELECT refid FROM client_clients WHERE user_id = \(userID)") != nil {
            throw ClientError(.alreadyBound, field: "user", message: "Already Bound: this user is bound to another client")
        }
        let now = Timestamp(clock.now())
        let version: Int64
        do {
            version = try bumpVersion(row, setting: "user_id = \(userID), ", at: now, in: tx)
        } catch let error as StorageError {
            throw Self.mapUniqueViolation(error)
        }
        try audit(clientID: row.id, version: version, event: "bind_user", from: nil, to: nil, actor: actor, reason: nil, at: now, in: tx)
        let events = events
        tx.afterCommit { events.publish(ClientUserBindingChanged(refid: refid, userID: userID)) }
        var updated = current
        updated.userID = userID
        updated.updatedAt = now.date
        return updated
    }

    /// Removes the client's user binding.
    @discardableResult
    public func unbindUser(from refid: Refid, actor: String = "system") async throws -> Client {
        let actor = try ClientValidation.actor(actor)
        return try await database.write { tx in try self.unbindUser(from: refid, actor: actor, in: tx) }
    }

    /// Removes the client's user binding inside an open transaction.
    @discardableResult
    public func unbindUser(from refid: Refid, actor: String = "system", in tx: any Transaction) throws -> Client {
        let actor = try ClientValidation.actor(actor)
        do {
            let (row, current) = try self.lockedClient(refid, in: tx)
            guard current.userID != nil else {
                throw ClientError(.notBound, field: "user", message: "Not Bound: this client has no user bound")
            }
            let now = Timestamp(self.clock.now())
            let version = try self.bumpVersion(row, setting: "user_id = NULL, ", at: now, in: tx)
            try self.audit(clientID: row.id, version: version, event: "unbind_user", from: nil, to: nil, actor: actor, reason: nil,
                           at: now, in: tx)
            let events = self.events
            tx.afterCommit { events.publish(ClientUserBindingChanged(refid: refid, userID: nil)) }
            var updated = current
            updated.userID = nil
            updated.updatedAt = now.date
            return updated
        }
    }

    // MARK: Metadata

    /// Merges `metadata` into the plain field and `secrets` into the encrypted field (a `null`
    /// value removes a key). The result must pass the same limits as on create.
    @discardableResult
    public func updateMetadata(_ refid: Refid, merging metadata: Metadata, secrets: Metadata = [:],
                               actor: String = "system") async throws -> Client {
        let actor = try ClientValidation.actor(actor)
        return try await database.write { tx in
            try self.updateMetadata(refid, merging: metadata, secrets: secrets, actor: actor, in: tx)
        }
    }

    /// Merges metadata inside an open transaction.
    @discardableResult
    public func updateMetadata(_ refid: Refid, merging metadata: Metadata, secrets: Metadata = [:],
                               actor: String = "system", in tx: any Transaction) throws -> Client {
        let actor = try ClientValidation.actor(actor)
        do {
            let (row, current) = try self.lockedClient(refid, in: tx)
            let merged = current.metadata.merging(metadata: metadata)
            let text = try self.policy.checkPlain(merged)
            var sealedValue: SQLValue = .null
            if current.hasSecretMetadata || !secrets.isEmpty {
                let stored = try tx.queryFirst("SELECT secret_metadata FROM client_clients WHERE id = \(row.id)")?
                    .optionalBlob("secret_metadata")
                let existing = secrets.isEmpty ? [:] : try self.policy.open(stored, refid: refid)
                if secrets.isEmpty {
                    sealedValue = stored.map(SQLValue.blob) ?? .null
                } else {
                    sealedValue = try self.policy.seal(existing.merging(metadata: secrets), refid: refid).map(SQLValue.blob) ?? .null
                }
            }
            let now = Timestamp(self.clock.now())
            let version = try self.bumpVersion(row, setting: "metadata = \(text), secret_metadata = \(sealedValue), ", at: now, in: tx)
            try self.audit(clientID: row.id, version: version, event: "update_metadata", from: nil, to: nil, actor: actor,
                           reason: nil, at: now, in: tx)
            var updated = current
            updated.metadata = merged
            updated.hasSecretMetadata = sealedValue != .null
            updated.updatedAt = now.date
            return updated
        }
    }

    /// Decrypts the client's secret metadata with the configured key.
    public func secretMetadata(of refid: Refid) async throws -> Metadata {
        let policy = policy
        return try await database.read { tx in
            guard let row = try tx.queryFirst("SELECT secret_metadata FROM client_clients WHERE refid = \(refid)") else {
                throw ClientError.notFound(refid.rawValue)
            }
            return try policy.open(try row.optionalBlob("secret_metadata"), refid: refid)
        }
    }

    // MARK: Audit

    /// The client's audit trail, oldest first (at most `limit` entries, up to 1000).
    public func auditTrail(of refid: Refid, limit: Int = 100) async throws -> [ClientAuditEntry] {
        guard (1...1000).contains(limit) else {
            throw ClientError(.invalidQuery, field: "limit", message: "Invalid limit: use 1…1000")
        }
        return try await database.read { tx in
            guard let id = try tx.queryInt64("SELECT id FROM client_clients WHERE refid = \(refid)") else {
                throw ClientError.notFound(refid.rawValue)
            }
            return try Self.auditLog.trail(owner: id, limit: limit, in: tx)
        }
    }

    // MARK: Internals

    static let columns = """
        id, refid, name, email, phone, status, owner_refid, user_id, metadata,
        CASE WHEN secret_metadata IS NULL THEN 0 ELSE 1 END AS has_secret, version, created_at, updated_at
        """

    static func decode(_ row: Row) throws -> Client {
        guard let status = ClientStatus(rawValue: try row.string("status")),
              let metadata = Metadata(jsonText: try row.string("metadata"))
        else { throw StorageError(code: .decoding, message: "stored client data has an unexpected shape") }
        return Client(refid: try row.refid("refid"), name: try row.string("name"), email: try row.string("email"),
                      phone: try row.optionalString("phone"), status: status, reseller: try row.optionalRefid("owner_refid"),
                      userID: try row.optionalString("user_id"), metadata: metadata, hasSecretMetadata: try row.bool("has_secret"),
                      createdAt: try row.timestamp("created_at").date, updatedAt: try row.timestamp("updated_at").date)
    }

    /// A client row's internal identity: its id (which never leaves the module) and the version read.
    struct RowVersion {
        var id: Int64
        var version: Int64
    }

    /// Reads the client's row, locking it until commit on PostgreSQL (SQLite's write transaction
    /// is already exclusive).
    func lockedClient(_ refid: Refid, in tx: any Transaction) throws -> (RowVersion, Client) {
        guard let row = try tx.queryFirst("""
            SELECT \(raw: Self.columns) FROM client_clients WHERE refid = \(refid)\(raw: tx.dialect.forUpdate)
            """)
        else { throw ClientError.notFound(refid.rawValue) }
        return (RowVersion(id: try row.int64("id"), version: try row.int64("version")), try Self.decode(row))
    }

    /// Applies `assignments` (each ending in ", ") and moves the client to its next version.
    func bumpVersion(_ row: RowVersion, setting assignments: SQL, at now: Timestamp, in tx: any Transaction) throws -> Int64 {
        try tx.advanceVersion(of: "client_clients", id: row.id, from: row.version, setting: assignments, updatedAt: now)
    }

    static let auditLog = AuditLog<ClientStatus>(table: "client_audit", owner: "client_id")

    func audit(clientID: Int64, version: Int64, event: String, from: ClientStatus?, to: ClientStatus?, actor: String, reason: String?,
               at: Timestamp, in tx: any Transaction) throws {
        try Self.auditLog.record(owner: clientID, version: version, event: event, from: from, to: to, actor: actor,
                                 reason: reason, at: at, in: tx)
    }

    /// Moves the signup rollup: the '*' (all) row and the client's own scope row.
    /// Moves the signup rollup of `day` by each change, for all clients (`*`) and for the scope, in
    /// one statement (a transition is two changes: one out of the old status, one into the new).
    /// Deferred: nothing handles its error on its own.
    func adjustRollup(day: Timestamp, scope reseller: Refid?, _ changes: [(status: ClientStatus, delta: Int64)],
                      in tx: any Transaction) throws {
        let dayText = CivilDate(dayNumber: day.utcDay).description
        let scope = reseller?.rawValue ?? ""
        let rows = changes.flatMap { change -> [SQL] in
            ["(\(dayText), '*', \(change.status.rawValue), \(change.delta))",
             "(\(dayText), \(scope), \(change.status.rawValue), \(change.delta))"]
        }
        try tx.executeDeferred("""
            INSERT INTO client_daily_stats (day, scope, status, clients)
            VALUES \(SQL.joined(rows, separator: ", "))
            ON CONFLICT (scope, day, status) DO UPDATE SET clients = client_daily_stats.clients + excluded.clients
            """)
    }

    static func mapUniqueViolation(_ error: StorageError) -> any Error {
        if error.isUniqueViolation(mentioning: "email_normalized") { return ClientError.duplicateEmail }
        if error.isUniqueViolation(mentioning: "user_id") {
            return ClientError(.alreadyBound, field: "user", message: "Already Bound: this user is bound to another client")
        }
        return error
    }
}
