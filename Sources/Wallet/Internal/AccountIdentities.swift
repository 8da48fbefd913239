import SuiteCore

/// The immutable facts of accounts — row id, unit, whether it is a system account — and the refids
/// of system accounts by owner, remembered once a transaction that read or created them has
/// committed. None of these ever changes for a row, and ledger rows are never deleted, so an entry
/// cannot go stale; the statements that use a cached id still name the refid too, so a wrong entry
/// could only make the fast path fall back to the checked one, never move another account's value.
final class AccountIdentities: Sendable {
    struct Identity: Sendable {
        let id: Int64
        let unit: Unit
        let isSystem: Bool
    }

    private let accounts = RememberedFacts<Refid, Identity>()
    /// System account refids by `owner` and unit code.
    private let systems = RememberedFacts<String, Refid>()

    func identity(of refid: Refid) -> Identity? { accounts[refid] }

    func remember(_ identity: Identity, for refid: Refid) { accounts.remember(identity, for: refid) }

    /// The refid of the system account `owner` of `unit`.
    func systemAccount(owner: String, unit: Unit) -> Refid? { systems[Self.key(owner, unit)] }

    func rememberSystemAccount(_ refid: Refid, owner: String, unit: Unit) {
        systems.remember(refid, for: Self.key(owner, unit))
    }

    private static func key(_ owner: String, _ unit: Unit) -> String { owner + "\u{1F}" + unit.code }
}
