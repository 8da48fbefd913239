import Synchronization
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

    /// Past this many entries the cache starts again empty (a process touching more accounts than
    /// this reads their identities again, which is what it did before there was a cache).
    static let capacity = 50_000

    private let state = Mutex<(accounts: [Refid: Identity], systems: [String: Refid])>(([:], [:]))

    func identity(of refid: Refid) -> Identity? {
        state.withLock { $0.accounts[refid] }
    }

    func remember(_ identity: Identity, for refid: Refid) {
        state.withLock { state in
            if state.accounts.count >= Self.capacity { state.accounts = [:] }
            state.accounts[refid] = identity
        }
    }

    /// The refid of the system account `owner` of `unit`.
    func systemAccount(owner: String, unit: Unit) -> Refid? {
        state.withLock { $0.systems[Self.key(owner, unit)] }
    }

    func rememberSystemAccount(_ refid: Refid, owner: String, unit: Unit) {
        state.withLock { state in
            if state.systems.count >= Self.capacity { state.systems = [:] }
            state.systems[Self.key(owner, unit)] = refid
        }
    }

    private static func key(_ owner: String, _ unit: Unit) -> String { owner + "\u{1F}" + unit.code }
}
