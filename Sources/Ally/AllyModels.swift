import Foundation
public import SuiteCore
public import SuiteStorage

/// A reseller's tier, which sets its discount on provisioning.
public enum ResellerTier: String, Sendable, Codable, CodingKeyRepresentable, CaseIterable, CustomStringConvertible {
    /// The tiers, lowest first; ``TierDiscounts`` sets what each one saves.
    case standard, gold, platinum
    /// The tier's name: `standard`, `gold` or `platinum`.
    public var description: String { rawValue }
}

/// Whether a reseller may provision.
public enum ResellerStatus: String, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// `active` may provision; `suspended` may not until reinstated.
    case active, suspended
    /// The status's name: `active` or `suspended`.
    public var description: String { rawValue }
}

/// A move of the reseller state machine, whose rules are ``table``.
public enum ResellerTransition: String, StateTransition {
    /// Stop a reseller from provisioning and taking new clients (``Allies/suspend(_:actor:reason:)``).
    case suspend
    /// Let a suspended reseller work again (``Allies/reinstate(_:actor:reason:)``).
    case reinstate

    /// The statuses this machine moves between.
    public typealias State = ResellerStatus

    /// The reseller lifecycle; any other start throws `.statusTransitionDenied`.
    public static let table = TransitionTable<ResellerTransition>([
        .suspend: .init(from: [.active], to: .suspended),
        .reinstate: .init(from: [.suspended], to: .active),
    ])

    /// The move's name, as the audit trail records it.
    public var description: String { rawValue }
}

/// One entry of a reseller's audit trail (``Allies/auditTrail(of:limit:)``).
public typealias ResellerAuditEntry = AuditEntry<ResellerStatus>

/// A reseller (Ally): a company, bound to one user account, with a tier and a credit wallet.
public struct Reseller: Hashable, Sendable, Codable {
    /// The public id (`RS-…`).
    public var refid: Refid
    /// The user account the reseller belongs to (one reseller per user).
    public var userID: String
    /// The company name.
    public var company: String
    /// The tier that sets the reseller's discount.
    public var tier: ResellerTier
    /// Whether the reseller may provision.
    public var status: ResellerStatus
    /// Free-form JSON fields the application attaches to the reseller.
    public var metadata: Metadata
    /// The reseller's credit account in the Wallet ledger.
    public var wallet: Refid
    /// When the reseller was registered.
    public var createdAt: Date
    /// When the reseller last changed.
    public var updatedAt: Date
}

/// Tier discounts, in basis points (1/100 of a percent). Defaults: platinum 30%, gold 15%, standard 0.
public struct TierDiscounts: Hashable, Sendable {
    /// The standard tier's discount, in basis points.
    public var standard: Int64
    /// The gold tier's discount, in basis points.
    public var gold: Int64
    /// The platinum tier's discount, in basis points.
    public var platinum: Int64

    /// Discounts in basis points; throws `.invalidConfiguration` unless each is 0…10000.
    public init(standard: Int64 = 0, gold: Int64 = 1_500, platinum: Int64 = 3_000) throws {
        for value in [standard, gold, platinum] where !(0...10_000).contains(value) {
            throw AllyError(.invalidConfiguration, message: "Invalid configuration: a discount must be 0…10000 basis points")
        }
        self.init(checked: standard, gold, platinum)
    }

    private init(checked standard: Int64, _ gold: Int64, _ platinum: Int64) {
        self.standard = standard
        self.gold = gold
        self.platinum = platinum
    }

    /// Platinum 30%, gold 15%, standard 0.
    public static let defaults = TierDiscounts(checked: 0, 1_500, 3_000)

    /// The discount of `tier`, in basis points.
    public func basisPoints(for tier: ResellerTier) -> Int64 {
        switch tier {
        case .standard: standard
        case .gold: gold
        case .platinum: platinum
        }
    }

    /// The cost after the tier's discount, in integer arithmetic: `base × (10000 − bps) / 10000`,
    /// rounded half up to a whole credit (so 15% off 333 is 283.05 → 283, and off 10 is 8.5 → 9).
    /// Throws on a negative base or an overflowing product.
    public func cost(of base: Int64, for tier: ResellerTier) throws -> Int64 {
        guard base >= 0 else { throw AllyError(.invalidAmount, message: "Invalid amount: must not be negative") }
        let (product, overflow) = base.multipliedReportingOverflow(by: 10_000 - basisPoints(for: tier))
        guard !overflow else { throw AllyError(.invalidAmount, message: "Invalid amount: too large") }
        let (rounded, carry) = product.addingReportingOverflow(5_000)
        guard !carry else { throw AllyError(.invalidAmount, message: "Invalid amount: too large") }
        return rounded / 10_000
    }

    /// What `count` provisions at the discounted price of `base` cost together; throws
    /// `.invalidAmount` if the total does not fit.
    public func cost(of base: Int64, for tier: ResellerTier, count: Int) throws -> Int64 {
        let (total, overflow) = try cost(of: base, for: tier).multipliedReportingOverflow(by: Int64(count))
        guard !overflow else { throw AllyError(.invalidAmount, message: "Invalid amount: the batch cost overflows") }
        return total
    }
}

/// The outcome of a provision: the credits spent and the ledger transfer that spent them.
public struct Provision: Hashable, Sendable, Codable {
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The credits spent, in whole credits.
    public var cost: Int64
    /// What the credits were spent on, e.g. `Pro licence` (the transfer's description).
    public var action: String
    /// The ledger transfer that spent them.
    public var transfer: Refid
    /// The wallet's balance right after the spend, in whole credits.
    public var balanceAfter: Int64
    /// False when an idempotent retry returned an earlier provision without spending again.
    public var isNew: Bool
}

/// A failure of an Ally operation; `description` is safe to show a user.
public struct AllyError: CodedError {
    /// What went wrong. A struct so that codes can be added without breaking callers.
    public struct Code: ErrorCode {
        /// The code's snake_case text, e.g. `not_found`.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// A field, limit, cursor or date range failed validation.
        public static let validation = Code("validation")
        /// No reseller has this refid.
        public static let notFound = Code("not_found")
        /// The user already has a reseller.
        public static let duplicateUser = Code("duplicate_user")
        /// The reseller is suspended and may not provision.
        public static let suspended = Code("suspended")
        /// The wallet holds fewer credits than the cost; ``AllyError/balance`` and ``AllyError/cost`` say how many.
        public static let insufficientCredits = Code("insufficient_credits")
        /// The amount or cost is zero, negative, or too large.
        public static let invalidAmount = Code("invalid_amount")
        /// An idempotency key was reused with different parameters.
        public static let idempotencyConflict = Code("idempotency_conflict")
        /// The move is not allowed from the reseller's current status (see ``ResellerTransition/table``).
        public static let statusTransitionDenied = Code("status_transition_denied")
        /// A setting, such as a ``TierDiscounts`` value, is out of range.
        public static let invalidConfiguration = Code("invalid_configuration")
    }

    /// What went wrong.
    public var code: Code
    /// Safe to show a user.
    public var message: String
    /// For insufficient credits: the wallet's balance at the time, in whole credits.
    public var balance: Int64?
    /// For insufficient credits: the cost that was asked for, in whole credits.
    public var cost: Int64?

    /// An error with `code` and a user-safe `message`.
    public init(_ code: Code, message: String, balance: Int64? = nil, cost: Int64? = nil) {
        self.code = code
        self.message = message
        self.balance = balance
        self.cost = cost
    }

}

/// A reseller's credit balance: what `dock ally balance --json` prints, and, merged with the
/// reseller (``Merged``), what `dock ally show --json` and `GET /v1/resellers/{refid}` answer.
public struct ResellerBalance: Hashable, Sendable, Codable {
    /// The reseller's refid (`RS-…`).
    public var reseller: Refid
    /// The wallet's balance, in whole credits.
    public var balance: Int64

    /// A balance of `reseller`.
    public init(reseller: Refid, balance: Int64) {
        self.reseller = reseller
        self.balance = balance
    }
}
