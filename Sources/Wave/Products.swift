import Foundation
public import Logging
public import SuiteCore
public import SuiteStorage
import Wallet

/// A one-time product: what an invoice line may sell, and what Forge mints licences for.
public struct Product: Hashable, Sendable, Codable {
    /// The public id (`PR-…`).
    public var refid: Refid
    /// The stable code (`[a-z0-9-]`, 1–64 characters): Forge's product code.
    public var slug: String
    /// The display name, e.g. `Pro (1 year)` (at most 255 characters).
    public var name: String
    /// The price in minor units of ``currency`` (> 0).
    public var price: Int64
    /// An ISO 4217 code such as `USD`.
    public var currency: String
    /// The licence term the product sells, in days; nil for lifetime.
    @ExplicitNull public var licenceDays: Int?
    /// Whether the product is for sale (deactivation is final).
    public var isActive: Bool
    /// When the product was created.
    public var createdAt: Date
    /// When the product last changed.
    public var updatedAt: Date
}

/// Wave's product catalogue. Implements `ProductCatalog`, so Forge can check every mint against it
/// (the product code is the slug).
///
/// ```swift
/// let products = Products(database: database)
/// let pro = try await products.create(name: "Pro (1 year)", slug: "pro-1y", price: 4_900, currency: "USD", licenceDays: 365)
/// let licences = Licences(database: database, products: products, clients: clients)
/// ```
public struct Products: Sendable {
    /// Where products are stored.
    public let database: any Database
    /// The source of every timestamp the catalogue writes.
    public let clock: any WallClock
    /// Where the catalogue logs.
    public let logger: Logger

    /// The longest licence term a product may sell (100 years, as Forge allows).
    public static let maximumLicenceDays = 36_500

    /// A catalogue over `database`.
    public init(database: any Database, clock: any WallClock = SystemWallClock(),
                logger: Logger = Logger(label: "clientsuite.wave")) {
        self.database = database
        self.clock = clock
        self.logger = logger
    }

    /// Creates an active product. Throws `.validation`, `.invalidAmount`, `.invalidCurrency` or
    /// `.duplicateSlug`, and then writes nothing.
    @discardableResult
    public func create(name: String, slug: String, price: Int64, currency: String, licenceDays: Int? = nil,
                       actor: String = "system") async throws -> Product {
        try await database.write { tx in
            try self.create(name: name, slug: slug, price: price, currency: currency, licenceDays: licenceDays,
                            actor: actor, in: tx)
        }
    }

    /// The same inside an open transaction.
    @discardableResult
    public func create(name: String, slug: String, price: Int64, currency: String, licenceDays: Int? = nil,
                       actor: String = "system", in tx: any Transaction) throws -> Product {
        let name = try WaveValidation.text(name, field: "name", maximum: 255)
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        let slug = try Self.slug(slug)
        guard price > 0 else { throw WaveError(.invalidAmount, message: "Invalid amount: the price must be greater than zero") }
        let currency = try WaveValidation.currency(currency)
        if let licenceDays, !(1...Self.maximumLicenceDays).contains(licenceDays) {
            throw WaveError.invalid("licence days", "use 1…\(Self.maximumLicenceDays), or none for lifetime")
        }
        let refid = Refid.generate(prefix: "PR-")
        let now = Timestamp(clock.now())
        _ = try Self.table.insert(slug: slug, columns: "refid, slug, name, price, currency, licence_days",
                                  values: "\(refid), \(slug), \(name), \(price), \(currency), \(licenceDays)",
                                  actor: actor, at: now, in: tx)
        return Product(refid: refid, slug: slug, name: name, price: price, currency: currency, licenceDays: licenceDays,
                       isActive: true, createdAt: now.date, updatedAt: now.date)
    }

    /// The product with `refid`; throws "Product Not Found" if there is none.
    public func find(_ refid: Refid) async throws -> Product {
        try await database.read { tx in try self.find(refid, in: tx) }
    }

    /// The product with `refid`, read inside an open transaction; throws "Product Not Found" if there is none.
    public func find(_ refid: Refid, in tx: any Transaction) throws -> Product {
        guard let product = try findByRefid(refid, in: tx) else { throw WaveError.notFound("product", refid.rawValue) }
        return product
    }

    /// The product with `refid`, or nil.
    public func findByRefid(_ refid: Refid) async throws -> Product? {
        try await database.read { tx in try self.findByRefid(refid, in: tx) }
    }

    /// The product with `refid`, or nil, read inside an open transaction.
    public func findByRefid(_ refid: Refid, in tx: any Transaction) throws -> Product? {
        try Self.table.findByRefid(refid, in: tx)
    }

    /// The product with `slug`, or nil.
    public func findBySlug(_ slug: String) async throws -> Product? {
        try await database.read { tx in try self.findBySlug(slug, in: tx) }
    }

    /// The product with `slug`, or nil, read inside an open transaction.
    public func findBySlug(_ slug: String, in tx: any Transaction) throws -> Product? {
        try Self.table.findBySlug(slug, in: tx)
    }

    /// One page of products, oldest first (1…500 per page).
    public func list(limit: Int = 50, after cursor: Cursor? = nil) async throws -> Page<Product> {
        try WaveError.checkLimit(limit)
        return try await database.read { tx in try Self.table.list(limit: limit, after: cursor, in: tx) }
    }

    /// Takes a product off sale, for good (audited). Existing invoices and licences keep it;
    /// new invoice lines and new licences refuse it. Throws `.statusTransitionDenied` if it is already inactive.
    @discardableResult
    public func deactivate(_ refid: Refid, actor: String = "system") async throws -> Product {
        let actor = try WaveValidation.text(actor, field: "actor", maximum: 255)
        return try await database.write { tx in
            let now = Timestamp(self.clock.now())
            var product = try Self.table.deactivate(refid, actor: actor, isActive: \.isActive, at: now, in: tx)
            product.isActive = false
            product.updatedAt = now.date
            return product
        }
    }

    // MARK: Internals

    static let table = CatalogTable<Product>(
        table: "wave_products", auditTable: "wave_product_audit", auditOwner: "product_id", noun: "product",
        columns: "id, version, refid, slug, name, price, currency, licence_days, active, created_at, updated_at",
        decode: decode, refid: \.refid)

    static func decode(_ row: Row) throws -> Product {
        Product(refid: try row.refid("refid"), slug: try row.string("slug"), name: try row.string("name"),
                price: try row.int64("price"), currency: try row.string("currency"),
                licenceDays: try row.optionalInt64("licence_days").map { Int($0) }, isActive: try row.bool("active"),
                createdAt: try row.timestamp("created_at").date, updatedAt: try row.timestamp("updated_at").date)
    }

    /// A slug: 1–64 of `a-z`, `0-9` and `-`, starting and ending with a letter or digit.
    static func slug(_ raw: String) throws -> String {
        let slug = raw.trimmingCharacters(in: .whitespaces)
        let allowed = slug.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
        guard (1...64).contains(slug.count), allowed, slug.first != "-", slug.last != "-" else {
            throw WaveError.invalid("slug", "1–64 characters of a-z, 0-9 and -, not starting or ending with -")
        }
        return slug
    }
}

extension Products {
    /// The product with slug `slug` if it is for sale, read inside `tx`; throws `.invalidProduct`
    /// for an unknown or deactivated product.
    public func forSale(_ slug: String, in tx: any Transaction) throws -> Product {
        guard let item = try findBySlug(slug, in: tx), item.isActive else {
            throw WaveError(.invalidProduct, message: "Invalid Product: \(slug.prefix(64)) is not for sale")
        }
        return item
    }
}

extension Products: ProductCatalog {
    /// Implements `ProductCatalog`: the product whose slug is `code`, as Forge sees it.
    public func product(_ code: String, in tx: any Transaction) throws -> ProductSummary? {
        try findBySlug(code, in: tx)?.summary
    }
}

extension Product {
    /// The product as other modules see it (its slug is the licence product code): what a
    /// workflow that has already read the product hands to Forge, so Forge need not ask again.
    public var summary: ProductSummary {
        ProductSummary(code: slug, name: name, isActive: isActive, licenceDays: licenceDays)
    }
}

/// Validation shared by the module's entry points.
enum WaveValidation {
    static func text(_ raw: String?, field: String, maximum: Int) throws -> String {
        let text = (raw ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw WaveError.invalid(field, "required") }
        guard text.count <= maximum,
              !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
        else { throw WaveError.invalid(field, "at most \(maximum) characters, no control characters") }
        return text
    }

    /// An ISO 4217 code (three letters, upper-cased); the ledger's `credits` unit is not money.
    static func currency(_ raw: String) throws -> String {
        let code = raw.trimmingCharacters(in: .whitespaces).uppercased()
        guard code.count == 3, (try? Unit(code)) != nil else {
            throw WaveError(.invalidCurrency, message: "Invalid Currency: use an ISO 4217 code such as USD")
        }
        return code
    }
}
