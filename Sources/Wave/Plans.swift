import Foundation
public import Logging
public import SuiteCore
public import SuiteStorage

/// Subscription plans: a price billed every day, week, month or year.
///
/// ```swift
/// let plans = Plans(database: database)
/// let pro = try await plans.create(name: "Pro monthly", slug: "pro-monthly", price: 1_900, currency: "USD", interval: .monthly)
/// ```
public struct Plans: Sendable {
    /// Where plans are stored.
    public let database: any Database
    /// The source of every timestamp the service writes.
    public let clock: any WallClock
    /// Where the service logs.
    public let logger: Logger

    /// Plans over `database`.
    public init(database: any Database, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "clientsuite.wave")) {
        self.database = database
        self.clock = clock
        self.logger = logger
    }

    /// Creates an active plan (audited). Throws `.validation`, `.invalidAmount`, `.invalidCurrency`
    /// or `.duplicateSlug`, and then writes nothing.
    @discardableResult
    public func create(name: String, slug: String, price: Int64, currency: String, interval: BillingInterval,
                       actor: String = "system") async throws -> Plan {
        try await database.write { tx in
            try self.create(name: name, slug: slug, price: price, currency: currency, interval: interval, actor: actor, in: tx)
        }
    }

    /// The same inside an open transaction.
    @discardableResult
    public func create(name: String, slug: String, price: Int64, currency: String, interval: BillingInterval,
                       actor: String = "system", in tx: any Transaction) throws -> Plan {
        let name = try WaveValidation.text(name, field: "name", maximum: 255)
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        let slug = try Products.slug(slug)
        guard price > 0 else { throw WaveError(.invalidAmount, message: "Invalid amount: the price must be greater than zero") }
        let currency = try WaveValidation.currency(currency)
        let refid = Refid.generate(prefix: "PL-")
        let now = Timestamp(clock.now())
        _ = try Self.table.insert(slug: slug, columns: "refid, slug, name, price, currency, billing_interval",
                                  values: "\(refid), \(slug), \(name), \(price), \(currency), \(interval.rawValue)",
                                  actor: actor, at: now, in: tx)
        return Plan(refid: refid, slug: slug, name: name, price: price, currency: currency, interval: interval,
                    isActive: true, createdAt: now.date, updatedAt: now.date)
    }

    /// The plan with `refid`; throws "Plan Not Found" if there is none.
    public func find(_ refid: Refid) async throws -> Plan {
        guard let plan = try await findByRefid(refid) else { throw WaveError.notFound("plan", refid.rawValue) }
        return plan
    }

    /// The plan with `refid`, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Plan? {
        try await database.read { tx in try self.findByRefid(refid, in: tx) }
    }

    /// The plan with `refid`, or nil, read inside an open transaction.
    public func findByRefid(_ refid: Refid, in tx: any Transaction) throws -> Plan? {
        try Self.table.findByRefid(refid, in: tx)
    }

    /// The plan with `slug`, or nil.
    public func findBySlug(_ slug: String) async throws -> Plan? {
        try await database.read { tx in try Self.table.findBySlug(slug, in: tx) }
    }

    /// One page of plans, oldest first (1…500 per page).
    public func list(limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Plan> {
        try WaveError.checkLimit(limit)
        return try await database.read { tx in try Self.table.list(limit: limit, after: cursor, in: tx) }
    }

    /// Takes a plan off sale, for good (audited): new subscriptions refuse it, live ones keep
    /// renewing at its price. Throws `.statusTransitionDenied` if it is already inactive.
    @discardableResult
    public func deactivate(_ refid: Refid, actor: String = "system") async throws -> Plan {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        return try await database.write { tx in
            let now = Timestamp(self.clock.now())
            var plan = try Self.table.deactivate(refid, actor: actor, isActive: \.isActive, at: now, in: tx)
            plan.isActive = false
            plan.updatedAt = now.date
            return plan
        }
    }

    // MARK: Internals

    static let table = CatalogTable<Plan>(
        table: "wave_plans", auditTable: "wave_plan_audit", auditOwner: "plan_id", noun: "plan",
        columns: "id, version, refid, slug, name, price, currency, billing_interval, active, created_at, updated_at",
        decode: decode, refid: \.refid)

    static func decode(_ row: Row) throws -> Plan {
        guard let interval = BillingInterval(rawValue: try row.string("billing_interval")) else {
            throw StorageError(code: .decoding, message: "stored plan data has an unexpected shape")
        }
        return Plan(refid: try row.refid("refid"), slug: try row.string("slug"), name: try row.string("name"),
                    price: try row.int64("price"), currency: try row.string("currency"), interval: interval,
                    isActive: try row.bool("active"), createdAt: try row.timestamp("created_at").date,
                    updatedAt: try row.timestamp("updated_at").date)
    }
}
